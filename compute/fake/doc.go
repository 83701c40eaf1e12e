// Package fake is a compute driver that runs nothing: it reports a configured
// capacity, so clusters, schedulers and APIs can be exercised without libvirt.
package fake
