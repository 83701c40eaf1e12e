// Package fake is a compute hypervisor that runs nothing: its domains are
// records that follow libvirt's state rules, and its host reports a
// configured capacity, so clusters, schedulers, reconcilers and APIs can be
// exercised without libvirt. With a state file its domains outlive the
// agent, as a real hypervisor's do. Tests inject failures (FailNext), latency
// (SetLatency) and guests changing state on their own (SetPowerState).
// Drivers added to one World (several fake hosts in one process) migrate
// domains between each other (compute.Migrator).
package fake
