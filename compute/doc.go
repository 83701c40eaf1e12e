// Package compute runs VMs on this host. It declares the Driver interface the
// cluster core consumes; compute/libvirt and compute/fake implement it.
//
// For now a Driver only reports what the host offers (its Fingerprint), which
// the node gossips as inventory. Defining, starting and stopping instances come
// later.
package compute
