package api

import (
	"context"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// Nova's deprecated os-hosts (until 2.42): a host's resources and the
// host-level actions a virt driver may or may not implement. Enabling and
// disabling is SetHostEnabled; maintenance mode and power actions are
// what Nova's libvirt driver does not implement either.

// HostResource is one line of a host's resources: the totals
// ("(total)"), what is claimed ("(used_now)"), the sum of the servers'
// flavors ("(used_max)"), then one line per project with servers there.
type HostResource struct {
	Host      string `json:"host"`
	Project   string `json:"project"`
	VCPUs     int    `json:"cpu"`
	MemoryMiB int    `json:"memory_mb"`
	DiskGiB   int    `json:"disk_gb"`
}

// errHostNotMapped is Nova's 404 for a host it does not know: the cell
// lookup comes first there, so this is its message on every os-hosts route.
func errHostNotMapped(name string) error {
	return fmt.Errorf("%w: Host '%s' is not mapped to any cell", fsm.ErrNotFound, name)
}

// errHostActionUnsupported is Nova's answer (501) when the virt driver
// raises NotImplementedError, as libvirt's does for maintenance mode and
// host power actions.
var errHostActionUnsupported = fmt.Errorf("%w: The requested functionality is not supported.", errNotImplemented)

// HostResources are a host's resource lines, as Nova's os-hosts show.
func (o *Ops) HostResources(ctx context.Context, name string) ([]HostResource, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return nil, errHostNotMapped(name)
	}
	hv := hypervisor(h, o.s.state.Usage()[h.Name], o.s.upHosts())
	out := []HostResource{
		{Host: h.Name, Project: "(total)", VCPUs: hv.VCPUs, MemoryMiB: hv.MemoryMiB, DiskGiB: hv.DiskGiB},
		{Host: h.Name, Project: "(used_now)", VCPUs: hv.VCPUsUsed, MemoryMiB: hv.MemoryMiBUsed, DiskGiB: hv.DiskGiBUsed},
	}
	usedMax := HostResource{Host: h.Name, Project: "(used_max)"}
	byProject := map[string]int{} // project → index in projects
	var projects []HostResource
	for _, inst := range o.s.state.Instances(func(i *fsm.Instance) bool { return i.Host == h.Name }) {
		f := inst.Flavor
		usedMax.VCPUs, usedMax.MemoryMiB, usedMax.DiskGiB = usedMax.VCPUs+f.VCPUs, usedMax.MemoryMiB+f.RAM, usedMax.DiskGiB+f.Disk
		i, ok := byProject[inst.ProjectID]
		if !ok {
			i = len(projects)
			byProject[inst.ProjectID] = i
			projects = append(projects, HostResource{Host: h.Name, Project: inst.ProjectID})
		}
		p := &projects[i]
		p.VCPUs, p.MemoryMiB, p.DiskGiB = p.VCPUs+f.VCPUs, p.MemoryMiB+f.RAM, p.DiskGiB+f.Disk
	}
	return append(append(out, usedMax), projects...), nil
}

// SetHostStatus is os-hosts' status update: enable or disable the host for
// new servers (the same flag as the services' enable/disable, without a
// reason). It answers Nova's "enabled" or "disabled".
func (o *Ops) SetHostStatus(ctx context.Context, name string, enabled bool) (string, error) {
	if _, err := o.s.state.Host(name); err != nil {
		return "", errHostNotMapped(name)
	}
	_, h, err := o.SetHostEnabled(ctx, name, enabled, "")
	if err != nil {
		return "", err
	}
	return h.Status, nil
}

// HostUnsupportedAction is maintenance mode and startup, shutdown and
// reboot of a host: 404 for an unknown host, else 501 as Nova's libvirt
// driver answers (shoal does not power hosts or migrate servers off them).
func (o *Ops) HostUnsupportedAction(ctx context.Context, name string) error {
	if _, err := o.s.state.Host(name); err != nil {
		return errHostNotMapped(name)
	}
	return errHostActionUnsupported
}
