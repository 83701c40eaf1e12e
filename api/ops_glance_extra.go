package api

import "slices"

// DiskFormats are the disk formats an image may be created with (Glance's
// list); the Image API's schema publishes them.
func DiskFormats() []string { return slices.Clone(diskFormats) }

// ContainerFormats are the container formats an image may be created
// with.
func ContainerFormats() []string { return slices.Clone(containerFormats) }
