// Package libvirt is the compute driver for QEMU/KVM hosts. It talks to the
// local libvirtd over its unix socket (github.com/digitalocean/go-libvirt, no
// cgo) and keeps that connection up: when libvirtd restarts, the driver
// reconnects with backoff in a goroutine it owns.
//
// Shoal's domains are the ones carrying an element in MetadataNamespace; every
// other domain on the host belongs to someone else and is never counted or
// touched.
package libvirt
