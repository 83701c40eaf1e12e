// Package libvirt is the compute driver for QEMU/KVM hosts: a
// compute.Hypervisor (and compute.Notifier) backed by the local libvirtd,
// talked to over its unix socket (github.com/digitalocean/go-libvirt, no
// cgo). The driver keeps that connection up: when libvirtd restarts, it
// reconnects with backoff in a goroutine it owns and subscribes to domain
// events again.
//
// Domain, network, pool and volume XML come from libvirtxml structs
// (xml.go), never from templates. Instance disks are qcow2 overlays in this
// node's dir pool (disks.go); the cluster network is a libvirt network in
// forward mode open (network.go: a bridge with the anycast gateway, no
// libvirt firewall; compute/network routes and filters) with one static
// DHCP reservation per address (dhcp.go), and each guest's port is the tap
// TapName(instance ID). Every domain tells its guest through SMBIOS that it
// runs on OpenStack Nova; an instance that wants a config drive gets its ISO
// as a read-only cdrom (configdrive.go).
//
// Shoal's domains are the ones carrying an element in MetadataNamespace; only
// those naming this node are its own. Every other domain on the host belongs
// to someone else and is never touched.
package libvirt
