package fsm

import (
	"fmt"
	"maps"
	"slices"
)

// Quota resources, with Nova's names (they appear in its quota sets and in
// its over-quota messages).
const (
	QuotaInstances          = "instances"
	QuotaCores              = "cores"
	QuotaRAM                = "ram"
	QuotaServerGroups       = "server_groups"
	QuotaServerGroupMembers = "server_group_members"
	QuotaKeyPairs           = "key_pairs"
	QuotaFloatingIPs        = "floating_ips"
	// metadata_items bounds the metadata of one server (enforced at
	// create and on every metadata change).
	QuotaMetadataItems = "metadata_items"
	// The rest are Nova 2.1's keys that shoal stores and shows (os-quota-sets
	// at 2.1 has them all; clients set them and read them back) but does
	// not enforce: injected files (personality) are not supported, and
	// security groups and fixed IPs have no per-project limit here.
	QuotaFixedIPs                 = "fixed_ips"
	QuotaInjectedFiles            = "injected_files"
	QuotaInjectedFileContentBytes = "injected_file_content_bytes"
	QuotaInjectedFilePathBytes    = "injected_file_path_bytes"
	QuotaSecurityGroups           = "security_groups"
	QuotaSecurityGroupRules       = "security_group_rules"
)

// Unlimited is the quota limit that never refuses (Nova's -1).
const Unlimited = -1

// QuotaSet is the limits of one project, as Nova's os-quota-sets shows them.
// RAM is in MiB. A limit of Unlimited never refuses.
type QuotaSet struct {
	Instances          int `json:"instances"`
	Cores              int `json:"cores"`
	RAM                int `json:"ram"`
	ServerGroups       int `json:"server_groups"`
	ServerGroupMembers int `json:"server_group_members"`
	KeyPairs           int `json:"key_pairs"`
	FloatingIPs        int `json:"floating_ips"`

	MetadataItems            int `json:"metadata_items"`
	FixedIPs                 int `json:"fixed_ips"`
	InjectedFiles            int `json:"injected_files"`
	InjectedFileContentBytes int `json:"injected_file_content_bytes"`
	InjectedFilePathBytes    int `json:"injected_file_path_bytes"`
	SecurityGroups           int `json:"security_groups"`
	SecurityGroupRules       int `json:"security_group_rules"`
}

// DefaultQuota is what a project gets for every limit it has no override
// for: Nova's defaults (nova/conf/quota.py; the deprecated network keys
// fixed_ips, security_groups and security_group_rules are -1 there since
// nova-network went). floating_ips keeps the 10 shoal has always enforced.
func DefaultQuota() QuotaSet {
	return QuotaSet{Instances: 10, Cores: 20, RAM: 51200, ServerGroups: 10, ServerGroupMembers: 10, KeyPairs: 100, FloatingIPs: 10,
		MetadataItems: 128, FixedIPs: Unlimited, InjectedFiles: 5, InjectedFileContentBytes: 10240, InjectedFilePathBytes: 255,
		SecurityGroups: Unlimited, SecurityGroupRules: Unlimited}
}

// QuotaOverride is a partial quota set: the limits given, nil for the rest.
// State keeps one per project that ever had a limit set, so a project
// without overrides follows DefaultQuota.
type QuotaOverride struct {
	Instances          *int `json:"instances,omitempty"`
	Cores              *int `json:"cores,omitempty"`
	RAM                *int `json:"ram,omitempty"`
	ServerGroups       *int `json:"server_groups,omitempty"`
	ServerGroupMembers *int `json:"server_group_members,omitempty"`
	KeyPairs           *int `json:"key_pairs,omitempty"`
	FloatingIPs        *int `json:"floating_ips,omitempty"`

	MetadataItems            *int `json:"metadata_items,omitempty"`
	FixedIPs                 *int `json:"fixed_ips,omitempty"`
	InjectedFiles            *int `json:"injected_files,omitempty"`
	InjectedFileContentBytes *int `json:"injected_file_content_bytes,omitempty"`
	InjectedFilePathBytes    *int `json:"injected_file_path_bytes,omitempty"`
	SecurityGroups           *int `json:"security_groups,omitempty"`
	SecurityGroupRules       *int `json:"security_group_rules,omitempty"`
}

// limits lists the fields of both shapes in the same order, so merging and
// validating do not repeat themselves per resource.
func (q *QuotaSet) limits() []*int {
	return []*int{&q.Instances, &q.Cores, &q.RAM, &q.ServerGroups, &q.ServerGroupMembers, &q.KeyPairs, &q.FloatingIPs,
		&q.MetadataItems, &q.FixedIPs, &q.InjectedFiles, &q.InjectedFileContentBytes, &q.InjectedFilePathBytes,
		&q.SecurityGroups, &q.SecurityGroupRules}
}

func (o *QuotaOverride) limits() []**int {
	return []**int{&o.Instances, &o.Cores, &o.RAM, &o.ServerGroups, &o.ServerGroupMembers, &o.KeyPairs, &o.FloatingIPs,
		&o.MetadataItems, &o.FixedIPs, &o.InjectedFiles, &o.InjectedFileContentBytes, &o.InjectedFilePathBytes,
		&o.SecurityGroups, &o.SecurityGroupRules}
}

var quotaNames = []string{QuotaInstances, QuotaCores, QuotaRAM, QuotaServerGroups, QuotaServerGroupMembers, QuotaKeyPairs, QuotaFloatingIPs,
	QuotaMetadataItems, QuotaFixedIPs, QuotaInjectedFiles, QuotaInjectedFileContentBytes, QuotaInjectedFilePathBytes,
	QuotaSecurityGroups, QuotaSecurityGroupRules}

// QuotaNames lists every quota key a quota set has, in a fixed order, so
// that the API decodes and shows them from one list.
func QuotaNames() []string { return slices.Clone(quotaNames) }

// Limit is the limit named by one of QuotaNames; ok is false for an
// unknown name.
func (q QuotaSet) Limit(name string) (limit int, ok bool) {
	at := slices.Index(quotaNames, name)
	if at < 0 {
		return 0, false
	}
	return *q.limits()[at], true
}

// Set gives the limit named by one of QuotaNames the value n; it reports
// false for an unknown name.
func (o *QuotaOverride) Set(name string, n int) bool {
	at := slices.Index(quotaNames, name)
	if at < 0 {
		return false
	}
	*o.limits()[at] = &n
	return true
}

// Limit is the override for the limit name, nil when it is not given (or
// the name is unknown).
func (o QuotaOverride) Limit(name string) *int {
	at := slices.Index(quotaNames, name)
	if at < 0 {
		return nil
	}
	return *o.limits()[at]
}

// Override is the override that sets every limit to q's (what resetting a
// project to the defaults proposes: DefaultQuota().Override()).
func (q QuotaSet) Override() QuotaOverride {
	var o QuotaOverride
	for k, v := range q.limits() {
		n := *v
		*o.limits()[k] = &n
	}
	return o
}

// SetQuota changes the limits given for one project and leaves the others
// as they were (Nova's PUT os-quota-sets/{project}). Whether the project
// exists is the API's check: the quota table does not know projects.
type SetQuota struct {
	ProjectID string        `json:"project_id"`
	Quota     QuotaOverride `json:"quota_set"`
}

func (*SetQuota) Type() Type { return TypeSetQuota }

func applySetQuota(s *State, _ uint64, c Command) error {
	cmd := c.(*SetQuota)
	if cmd.ProjectID == "" {
		return fmt.Errorf("%w: a quota needs a project ID", ErrInvalid)
	}
	given := cmd.Quota.limits()
	for k, v := range given {
		if *v != nil && **v < Unlimited {
			return fmt.Errorf("%w: quota %s must be -1 (unlimited) or more, not %d", ErrInvalid, quotaNames[k], **v)
		}
	}
	cur := s.Quotas[cmd.ProjectID]
	changed := false
	for k, v := range cur.limits() {
		if *given[k] != nil {
			n := **given[k] // a copy: the state shares nothing with the command
			*v, changed = &n, true
		}
	}
	if changed {
		if s.Quotas == nil {
			s.Quotas = map[string]QuotaOverride{}
		}
		s.Quotas[cmd.ProjectID] = cur
	}
	return nil
}

// quota is the effective quota set of a project: its overrides over the
// defaults (defaultQuota: the default class's).
func (s *State) quota(projectID string) QuotaSet {
	return s.defaultQuota().over(s.Quotas[projectID])
}

// QuotaUsage is what a project holds of the resources a quota counts (what
// Nova's limits API shows as totalInstancesUsed and the like).
type QuotaUsage struct {
	Instances    int `json:"instances"`
	Cores        int `json:"cores"`
	RAM          int `json:"ram"`
	ServerGroups int `json:"server_groups"`
	FloatingIPs  int `json:"floating_ips"`
	// SecurityGroups and SecurityGroupRules count the groups a project
	// made and their rules: its default group (every project has one, made
	// when first used) and that group's rules are not counted.
	SecurityGroups     int `json:"security_groups"`
	SecurityGroupRules int `json:"security_group_rules"`
}

// projectUsage counts by scanning: it runs only for commands of a project,
// and a derived per-project index would be one more thing to keep right
// through every transition.
func (s *State) projectUsage(projectID string) QuotaUsage {
	var u QuotaUsage
	for _, i := range s.Instances {
		if i.ProjectID == projectID && i.VMState != VMDeleted {
			u.Instances++
			u.Cores += i.Flavor.VCPUs
			u.RAM += i.Flavor.RAM
		}
	}
	for _, g := range s.Groups {
		if g.ProjectID == projectID {
			u.ServerGroups++
		}
	}
	u.FloatingIPs = s.floatingIPsOf(projectID)
	for _, g := range s.SecurityGroups {
		if g.ProjectID == projectID && g.ID != DefaultSecurityGroupID(projectID) {
			u.SecurityGroups++
			u.SecurityGroupRules += len(g.Rules)
		}
	}
	return u
}

// QuotaError is a request refused because it would take a project past a
// limit. It wraps ErrOverQuota; its message is Nova's, word for word, so the
// API can show it as it is.
type QuotaError struct {
	Resource  string // one of the Quota* names
	Requested int
	Used      int
	Allowed   int
}

func (e *QuotaError) Error() string {
	switch e.Resource {
	case QuotaServerGroups:
		return "Quota exceeded, too many server groups."
	case QuotaServerGroupMembers:
		return "Quota exceeded, too many servers in group"
	case QuotaKeyPairs:
		return "Quota exceeded, too many key pairs."
	case QuotaSecurityGroups:
		return "Quota exceeded, too many security groups."
	case QuotaSecurityGroupRules:
		return "Quota exceeded, too many security group rules."
	case QuotaMetadataItems:
		return fmt.Sprintf("Maximum number of metadata items exceeds %d", e.Allowed)
	}
	return fmt.Sprintf("Quota exceeded for %s: Requested %d, but already used %d of %d %s",
		e.Resource, e.Requested, e.Used, e.Allowed, e.Resource)
}

func (e *QuotaError) Unwrap() error { return ErrOverQuota }

// checkQuota refuses taking requested more of a resource when used of it is
// held already and allowed is the limit.
func checkQuota(resource string, requested, used, allowed int) error {
	if allowed == Unlimited || used+requested <= allowed {
		return nil
	}
	return &QuotaError{Resource: resource, Requested: requested, Used: used, Allowed: allowed}
}

// checkMetadataQuota refuses a server metadata of n items beyond the
// metadata_items limit of the server's project. It is a limit per server,
// not a count across the project: Used is always 0.
func (s *State) checkMetadataQuota(projectID string, n int) error {
	return checkQuota(QuotaMetadataItems, n, 0, s.quota(projectID).MetadataItems)
}

// checkCreateQuota checks servers about to be created by a project against
// its quota (instances, cores, ram, in Nova's order), then every group they
// join against its own project's server_group_members. Objects without a
// project (made before identity) are not counted.
func (s *State) checkCreateQuota(projectID string, built []*Instance) error {
	if projectID != "" {
		var want QuotaUsage
		for _, i := range built {
			want.Instances++
			want.Cores += i.Flavor.VCPUs
			want.RAM += i.Flavor.RAM
		}
		used, q := s.projectUsage(projectID), s.quota(projectID)
		if err := checkQuota(QuotaInstances, want.Instances, used.Instances, q.Instances); err != nil {
			return err
		}
		if err := checkQuota(QuotaCores, want.Cores, used.Cores, q.Cores); err != nil {
			return err
		}
		if err := checkQuota(QuotaRAM, want.RAM, used.RAM, q.RAM); err != nil {
			return err
		}
	}
	joining := map[string]int{}
	for _, i := range built {
		if i.ServerGroupID != "" {
			joining[i.ServerGroupID]++
		}
	}
	for _, id := range slices.Sorted(maps.Keys(joining)) {
		g := s.Groups[id]
		if g == nil || g.ProjectID == "" {
			continue
		}
		if err := checkQuota(QuotaServerGroupMembers, joining[id], len(g.Members), s.quota(g.ProjectID).ServerGroupMembers); err != nil {
			return err
		}
	}
	return nil
}

// Quota returns a project's effective quota set: its overrides over
// DefaultQuota. Any project ID has one; the API checks that it exists.
func (f *FSM) Quota(projectID string) QuotaSet {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.quota(projectID)
}

// ProjectUsage returns what a project holds of the resources its quota
// counts. (Usage is the per-host claims.)
func (f *FSM) ProjectUsage(projectID string) QuotaUsage {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.projectUsage(projectID)
}
