package compute

import "context"

// ImageCache gives a driver the bits of an image on this host: the cached,
// checksum-verified file, fetched from a peer that holds a copy when this
// host has none yet.
type ImageCache interface {
	// Path returns the local file of image id and its disk format (qcow2 or
	// raw), fetching and verifying it first if needed.
	Path(ctx context.Context, imageID string) (path, format string, err error)
}
