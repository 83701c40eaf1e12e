package fsm

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// State is the whole replicated state. It is only changed by Apply and Restore;
// readers get copies through FSM's read methods.
type State struct {
	ClusterID string                  `json:"cluster_id"`
	Index     uint64                  `json:"index"`
	Hosts     map[string]*Host        `json:"hosts"`
	Flavors   map[string]*Flavor      `json:"flavors"`
	Images    map[string]*Image       `json:"images"`
	Groups    map[string]*ServerGroup `json:"server_groups"`
	Instances map[string]*Instance    `json:"instances"`
	Network   *Network                `json:"network,omitempty"`
	// Quotas holds each project's quota overrides (SetQuota); a project
	// without an entry has DefaultQuota.
	Quotas map[string]QuotaOverride `json:"quotas,omitempty"`
	// QuotaClasses holds the limits set per quota class (SetQuotaClass);
	// the default class's replace DefaultQuota's. Omitted while empty.
	QuotaClasses map[string]QuotaOverride `json:"quota_classes,omitempty"`
	// Aggregates are the host aggregates by ID (aggregate.go); omitted
	// while empty.
	Aggregates map[string]*Aggregate `json:"aggregates,omitempty"`
	// AggregateSeq is the ID of the last aggregate made.
	AggregateSeq uint64 `json:"aggregate_seq,omitempty"`

	// Identity (identity.go): omitted while empty, so a cluster without it
	// snapshots as before. Assignments is kept sorted.
	Domains     map[string]*Domain      `json:"domains,omitempty"`
	Projects    map[string]*Project     `json:"projects,omitempty"`
	Users       map[string]*User        `json:"users,omitempty"`
	Roles       map[string]*Role        `json:"roles,omitempty"`
	Assignments []RoleAssignment        `json:"role_assignments,omitempty"`
	SigningKeys map[string]*SigningKey  `json:"signing_keys,omitempty"`
	Revoked     map[string]TokenRevoked `json:"revoked_tokens,omitempty"`

	// Cluster security (cluster_security.go), omitted while empty like
	// identity: join tokens by ID, issued node certificates by serial (so
	// the revocation check on every handshake is one lookup), the sealed
	// gossip keyring by key ID and the ID of its primary key.
	JoinTokens    map[string]*JoinToken `json:"join_tokens,omitempty"`
	NodeCerts     map[string]*NodeCert  `json:"node_certs,omitempty"`
	GossipKeys    map[string]*GossipKey `json:"gossip_keys,omitempty"`
	GossipPrimary string                `json:"gossip_primary,omitempty"`

	// Networking beyond the tenant network (issue 12), omitted while empty:
	// external networks by ID, floating IPs by ID, security groups by ID
	// (each holding its rules).
	Networks       map[string]*Network       `json:"networks,omitempty"`
	FloatingIPs    map[string]*FloatingIP    `json:"floating_ips,omitempty"`
	SecurityGroups map[string]*SecurityGroup `json:"security_groups,omitempty"`

	// Keypairs (keypair.go) by user ID, then name; omitted while empty.
	KeyPairs map[string]map[string]*KeyPair `json:"key_pairs,omitempty"`

	// Migrations are the record of server moves by ID (migration.go), at
	// most MaxMigrations; MigrationSeq is the last ID given. Omitted while
	// empty.
	Migrations   map[uint64]*Migration `json:"migrations,omitempty"`
	MigrationSeq uint64                `json:"migration_seq,omitempty"`

	// Deleted is the record of the last MaxDeletedInstances servers that
	// went, in the order they went (tombstone.go); omitted while empty.
	Deleted []DeletedInstance `json:"deleted_instances,omitempty"`

	// Derived indexes, rebuilt on restore and never serialized.
	flavorNames map[string]string
	usage       map[string]*Usage // host → claims
	pending     map[string]uint64 // instances waiting for the scheduler → queue ticket
	queue       []queued          // pending instances by (CreateIndex, ID), with stale entries
	ticket      uint64
	macs        map[string]bool
	hostsGen    uint64 // bumped by every change to Hosts (for FSM's host cache)
	// Identity name indexes: domain and name → ID (nameKey), role name → ID.
	projectNames map[string]string
	userNames    map[string]string
	roleNames    map[string]string
}

// queued is a queue entry; it is stale once pending[id] holds another ticket.
type queued struct {
	created uint64
	id      string
	ticket  uint64
}

func (q queued) compare(o queued) int {
	if c := cmp.Compare(q.created, o.created); c != 0 {
		return c
	}
	return strings.Compare(q.id, o.id)
}

func newState() *State {
	s := &State{}
	s.reindex()
	return s
}

// reindex fills nil maps and rebuilds derived indexes after decoding.
func (s *State) reindex() {
	if s.Hosts == nil {
		s.Hosts = map[string]*Host{}
	}
	if s.Flavors == nil {
		s.Flavors = map[string]*Flavor{}
	}
	if s.Images == nil {
		s.Images = map[string]*Image{}
	}
	if s.Groups == nil {
		s.Groups = map[string]*ServerGroup{}
	}
	if s.Instances == nil {
		s.Instances = map[string]*Instance{}
	}
	if s.Network != nil && s.Network.Allocated == nil {
		s.Network.Allocated = map[string]string{}
	}
	for _, n := range s.Networks {
		if n.Allocated == nil {
			n.Allocated = map[string]string{}
		}
	}
	for _, g := range s.SecurityGroups {
		if g.Rules == nil {
			g.Rules = []SecurityGroupRule{}
		}
	}
	s.reindexIdentity()
	s.reindexClusterSecurity()
	s.flavorNames = make(map[string]string, len(s.Flavors))
	for id, f := range s.Flavors {
		s.flavorNames[f.Name] = id
	}
	s.usage = map[string]*Usage{}
	s.pending = map[string]uint64{}
	s.queue = nil
	s.macs = map[string]bool{}
	ids := slices.Sorted(maps.Keys(s.Instances))
	slices.SortStableFunc(ids, func(a, b string) int {
		return cmp.Compare(s.Instances[a].CreateIndex, s.Instances[b].CreateIndex)
	})
	for _, id := range ids {
		i := s.Instances[id]
		s.track(i)
		for _, a := range i.Addresses {
			s.macs[a.MAC] = true
		}
	}
	s.hostsGen++
}

// track adds an instance's claim to the derived indexes and queues or
// unqueues it for the scheduler; untrack removes its claim. Every change to
// Host, VMState or TaskState of an instance happens between an untrack and a
// track. The queue is ordered by (CreateIndex, ID), the order a restored
// replica rebuilds, and an instance that stays pending keeps its place.
func (s *State) track(i *Instance) {
	if i.claims() {
		s.usageOf(i.Host).add(i.Flavor, 1)
		if h, f := s.otherEnd(i); h != "" {
			s.usageOf(h).add(f, 1)
		}
	}
	_, queuedNow := s.pending[i.ID]
	switch {
	case i.Pending() && !queuedNow:
		s.ticket++
		s.pending[i.ID] = s.ticket
		q := queued{created: i.CreateIndex, id: i.ID, ticket: s.ticket}
		if n := len(s.queue); n == 0 || s.queue[n-1].compare(q) < 0 {
			s.queue = append(s.queue, q)
		} else {
			at, _ := slices.BinarySearchFunc(s.queue, q, queued.compare)
			s.queue = slices.Insert(s.queue, at, q)
		}
	case !i.Pending() && queuedNow:
		s.unqueue(i.ID)
	}
}

func (s *State) untrack(i *Instance) {
	if i.claims() {
		s.usageOf(i.Host).add(i.Flavor, -1)
		if h, f := s.otherEnd(i); h != "" {
			s.usageOf(h).add(f, -1)
		}
	}
}

// unqueue takes an instance off the scheduler's queue (lazily: its entry goes
// stale and is compacted away once stale entries dominate).
func (s *State) unqueue(id string) {
	delete(s.pending, id)
	if len(s.queue) > 2*len(s.pending)+64 {
		s.queue = slices.DeleteFunc(s.queue, func(q queued) bool { return s.pending[q.id] != q.ticket })
	}
}

func (s *State) usageOf(host string) *Usage {
	u, ok := s.usage[host]
	if !ok {
		u = &Usage{}
		s.usage[host] = u
	}
	return u
}

func (s *State) flavorByName(name string) *Flavor {
	if id, ok := s.flavorNames[name]; ok {
		return s.Flavors[id]
	}
	return nil
}

func (s *State) putFlavor(f Flavor, index uint64) {
	f.CreateIndex, f.ModifyIndex = index, index
	f = f.clone()
	slices.Sort(f.Access)
	f.Access = slices.Compact(f.Access)
	if len(f.Access) == 0 {
		f.Access = nil
	}
	if len(f.ExtraSpecs) == 0 {
		f.ExtraSpecs = nil
	}
	s.Flavors[f.ID] = &f
	s.flavorNames[f.Name] = f.ID
}
