package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Hosts, hypervisors, quotas and limits. The routes that reach these are
// an admin's (hosts, hypervisors, setting quotas) or check the project
// here (reading quotas and limits).

// Hosts are every host with its state (up/down as gossip and the leader
// see it) and status (enabled/disabled).
func (o *Ops) Hosts(ctx context.Context) ([]Host, error) {
	up := o.s.upHosts()
	hosts := []Host{}
	for _, h := range o.s.state.Hosts() {
		hosts = append(hosts, hostView(h, up))
	}
	return hosts, nil
}

// Host is one host by name.
func (o *Ops) Host(ctx context.Context, name string) (Host, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return Host{}, err
	}
	return hostView(h, o.s.upHosts()), nil
}

// SetHostEnabled enables a host for new servers, or disables it with a
// reason (Nova's disable-log-reason).
func (o *Ops) SetHostEnabled(ctx context.Context, name string, enabled bool, reason string) (uint64, Host, error) {
	if err := validText("reason", reason, maxReasonLen); err != nil {
		return 0, Host{}, err
	}
	h, err := o.s.state.Host(name)
	if err != nil {
		return 0, Host{}, err
	}
	return o.hostChange(ctx, h.Name, &fsm.SetHostEnabled{Name: h.Name, Enabled: enabled, Reason: reason, Time: time.Now().UTC()})
}

// ForceHostDown sets or clears Nova's forced_down. A forced-down host gets
// no lease, so it fences itself; once its lease has run out it is marked
// down and its servers are evacuated.
func (o *Ops) ForceHostDown(ctx context.Context, name string, down bool) (uint64, Host, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return 0, Host{}, err
	}
	return o.hostChange(ctx, h.Name, &fsm.ForceHostDown{Name: h.Name, ForcedDown: down, Time: time.Now().UTC()})
}

// hostChange commits a change to one host and reads it back.
func (o *Ops) hostChange(ctx context.Context, name string, c fsm.Command) (uint64, Host, error) {
	idx, h, err := applyRead(o.s, ctx, c, "host", name, o.s.state.Host)
	if err != nil {
		return idx, Host{}, err
	}
	return idx, hostView(h, o.s.upHosts()), nil
}

// EvacuateHost evacuates every server of a host that is down, to target
// ("": the scheduler picks); refused (409) while the host is up and when
// it has no servers.
func (o *Ops) EvacuateHost(ctx context.Context, name, target string) (uint64, []ServerDetail, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return 0, nil, err
	}
	p := Caller(ctx)
	cmd := &fsm.EvacuateInstances{TargetHost: target, RequestID: RequestID(ctx), UserID: p.UserID, ProjectID: p.ProjectID,
		Time: time.Now().UTC()}
	for _, inst := range o.s.state.Instances(func(i *fsm.Instance) bool { return i.Host == h.Name && i.TaskState != fsm.TaskDeleting }) {
		cmd.IDs = append(cmd.IDs, inst.ID)
	}
	if len(cmd.IDs) == 0 {
		return 0, nil, fmt.Errorf("%w: host %s has no servers to evacuate", fsm.ErrConflict, h.Name)
	}
	return o.s.applyToServers(ctx, cmd, cmd.IDs)
}

// RemoveHost takes a node out of the cluster for good (Nova's service
// delete): its certificates are refused by every node from then on.
func (o *Ops) RemoveHost(ctx context.Context, name string) error {
	h, err := o.s.state.Host(name)
	if err == nil {
		err = o.s.cluster.RemoveHost(ctx, h.Name)
	}
	if err != nil {
		return err
	}
	p := Caller(ctx)
	o.s.log.Info("api: host removed", "host", h.Name, "user", p.UserName, "project", p.ProjectName)
	return nil
}

// Hypervisors are every host's capacity against what is claimed on it.
func (o *Ops) Hypervisors(ctx context.Context) ([]Hypervisor, error) { return o.s.hypervisors(), nil }

// Hypervisor is one host's.
func (o *Ops) Hypervisor(ctx context.Context, name string) (Hypervisor, error) {
	h, err := o.s.state.Host(name)
	if err != nil {
		return Hypervisor{}, err
	}
	return hypervisor(h, o.s.state.Usage()[h.Name], o.s.upHosts()), nil
}

// HypervisorStatistics sums every hypervisor.
func (o *Ops) HypervisorStatistics(ctx context.Context) (HypervisorStatistics, error) {
	var st HypervisorStatistics
	for _, h := range o.s.hypervisors() {
		st.Count++
		st.VCPUs += h.VCPUs
		st.VCPUsUsed += h.VCPUsUsed
		st.MemoryMiB += h.MemoryMiB
		st.MemoryMiBUsed += h.MemoryMiBUsed
		st.FreeRAMMiB += h.FreeRAMMiB
		st.DiskGiB += h.DiskGiB
		st.DiskGiBUsed += h.DiskGiBUsed
		st.FreeDiskGiB += h.FreeDiskGiB
		st.RunningVMs += h.RunningVMs
	}
	return st, nil
}

// quotaProject checks the project of a quota route: the caller's own, or
// any for an admin (Nova's policy answers 403, not 404, since quotas are
// not the project's objects); an unknown project is 404.
func (o *Ops) quotaProject(ctx context.Context, id string) error {
	if !Caller(ctx).Sees(id) {
		return errForbiddenTo("reading or setting the quotas of another project")
	}
	return o.knownProject(id)
}

// knownProject is 404 unless project id exists.
func (o *Ops) knownProject(id string) error {
	if p, err := o.s.state.Project(id); err != nil || p.ID != id {
		return fmt.Errorf("%w: project %q", fsm.ErrNotFound, id)
	}
	return nil
}

// Quota is a project's quota set (its own or, for an admin, any).
func (o *Ops) Quota(ctx context.Context, project string) (QuotaSetView, error) {
	if err := o.quotaProject(ctx, project); err != nil {
		return QuotaSetView{}, err
	}
	return QuotaSetView{ID: project, QuotaSet: o.s.state.Quota(project)}, nil
}

// DefaultQuota is the quota set a project has until an admin sets one:
// the default quota class's.
func (o *Ops) DefaultQuota(ctx context.Context, project string) (QuotaSetView, error) {
	if err := o.knownProject(project); err != nil {
		return QuotaSetView{}, err
	}
	return QuotaSetView{ID: project, QuotaSet: o.s.state.QuotaClass(fsm.DefaultQuotaClass)}, nil
}

// UpdateQuota sets some of a project's limits from Nova's quota_set
// object: known keys only, each an integer (or a string of one) of -1 or
// more, and "force"; without force a limit below what the project uses
// is refused, as in Nova. The answer has no ID, as Nova's.
func (o *Ops) UpdateQuota(ctx context.Context, project string, set map[string]json.RawMessage) (uint64, QuotaSetView, error) {
	if err := o.quotaProject(ctx, project); err != nil {
		return 0, QuotaSetView{}, err
	}
	q, force, err := parseQuotaSet(set)
	if err == nil && !force {
		err = belowUsage(q, o.s.state.ProjectUsage(project))
	}
	if err != nil {
		return 0, QuotaSetView{}, err
	}
	idx, err := o.s.apply(ctx, &fsm.SetQuota{ProjectID: project, Quota: q})
	if err != nil {
		return idx, QuotaSetView{}, err
	}
	return idx, QuotaSetView{QuotaSet: o.s.state.Quota(project)}, nil
}

// ResetQuota puts a project's limits back to the defaults.
func (o *Ops) ResetQuota(ctx context.Context, project string) (uint64, error) {
	if err := o.quotaProject(ctx, project); err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.SetQuota{ProjectID: project, Quota: o.defaultOverride()})
}

// Limits is Nova's limits of project ("": the caller's); another
// project's are an admin's (Nova's limits:other_project policy).
func (o *Ops) Limits(ctx context.Context, project string) (Limits, error) {
	p := Caller(ctx)
	if project == "" {
		project = p.ProjectID
	}
	if project != p.ProjectID {
		if !p.Admin() {
			return Limits{}, errForbiddenTo("reading the limits of another project")
		}
		if err := o.knownProject(project); err != nil {
			return Limits{}, err
		}
	}
	l, u := o.s.state.Quota(project), o.s.state.ProjectUsage(project)
	return Limits{Rate: []any{}, Absolute: AbsoluteLimits{
		MaxTotalInstances: l.Instances, MaxTotalCores: l.Cores, MaxTotalRAMSize: l.RAM,
		MaxServerGroups: l.ServerGroups, MaxServerGroupMembers: l.ServerGroupMembers, MaxTotalKeypairs: l.KeyPairs,
		MaxTotalFloatingIPs: l.FloatingIPs, MaxServerMeta: l.MetadataItems, MaxImageMeta: l.MetadataItems,
		MaxPersonality: l.InjectedFiles, MaxPersonalitySize: l.InjectedFileContentBytes,
		MaxSecurityGroups: l.SecurityGroups, MaxSecurityGroupRules: l.SecurityGroupRules,
		TotalInstancesUsed: u.Instances, TotalCoresUsed: u.Cores, TotalRAMUsed: u.RAM, TotalServerGroupsUsed: u.ServerGroups,
		TotalFloatingIPsUsed: u.FloatingIPs, TotalSecurityGroupsUsed: u.SecurityGroups,
	}}, nil
}
