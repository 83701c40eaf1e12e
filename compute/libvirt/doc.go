// Package libvirt is the compute driver for QEMU/KVM hosts: a
// compute.Hypervisor (and compute.Notifier) backed by the local libvirtd,
// talked to over its unix socket (github.com/digitalocean/go-libvirt, no
// cgo). The driver keeps that connection up: when libvirtd restarts, it
// reconnects with backoff in a goroutine it owns and subscribes to domain
// events again.
//
// Domain, network, pool and volume XML come from libvirtxml structs
// (xml.go), never from templates. Instance disks are qcow2 overlays in this
// node's dir pool (disks.go); the cluster network is an isolated libvirt
// network (network.go) with one static DHCP reservation per address
// (dhcp.go).
//
// Shoal's domains are the ones carrying an element in MetadataNamespace; only
// those naming this node are its own. Every other domain on the host belongs
// to someone else and is never touched.
package libvirt
