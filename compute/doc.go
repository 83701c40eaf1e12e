// Package compute runs VMs on this host. It declares the interfaces the rest
// of shoal consumes: Driver (what the host offers: its Fingerprint, an
// fsm.Inventory, which the node gossips) and Hypervisor (a Driver that also
// defines, starts, stops and removes domains), and ImageCache (an image's
// bits on this host). compute/fake and compute/libvirt implement Hypervisor;
// compute/imagecache implements ImageCache.
//
// The Reconciler, one per node, makes the hypervisor match the FSM: it
// carries out the tasks of the instances placed on this host, reports what it
// observes through Raft in batches, and removes domains no instance here
// owns. It reads the FSM through the small State interface and commits
// through a Reporter, so it is tested without Raft.
package compute
