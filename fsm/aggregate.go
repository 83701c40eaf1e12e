package fsm

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// Host aggregates (Nova's os-aggregates): named groups of hosts with
// metadata. One metadata key has a meaning: availability_zone is the zone
// of every host of the aggregate, and it is the only place a host's zone
// is changed through the API (Host.AvailabilityZone is derived from it on
// every read; without one, a host is in the zone its node's configuration
// names). The rest of the metadata is stored and shown, and schedules
// nothing (Nova's AggregateInstanceExtraSpecsFilter is not a default).
//
// An aggregate's ID is Nova's integer id, counted in the state (1, 2, …;
// never reused), the same on every replica: not the entry's index, which
// the commands of one batch share. Its UUID is decided before Raft.

// AggregateZoneKey is the metadata key that sets the hosts' zone.
const AggregateZoneKey = "availability_zone"

// MaxAggregateText is the longest aggregate name, metadata key or value
// (Nova's schema), in characters.
const MaxAggregateText = 255

// Aggregate is a host aggregate.
type Aggregate struct {
	ID       uint64            `json:"id"`
	UUID     string            `json:"uuid"`
	Name     string            `json:"name"`
	Hosts    []string          `json:"hosts"` // in the order added
	Metadata map[string]string `json:"metadata"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated,omitzero"` // zero until first changed
	Indexes
}

// Zone is the availability zone the aggregate gives its hosts ("": none).
func (a Aggregate) Zone() string { return a.Metadata[AggregateZoneKey] }

func (a *Aggregate) clone() Aggregate {
	c := *a
	c.Hosts = slices.Clone(a.Hosts)
	c.Metadata = maps.Clone(a.Metadata)
	if c.Metadata == nil {
		c.Metadata = map[string]string{}
	}
	if c.Hosts == nil {
		c.Hosts = []string{}
	}
	return c
}

// aggregateKey is the state's key of aggregate id.
func aggregateKey(id uint64) string { return strconv.FormatUint(id, 10) }

// errAggregateNotFound is Nova's 404 for an aggregate.
func errAggregateNotFound(id uint64) error {
	return fmt.Errorf("%w: Aggregate %d could not be found.", ErrNotFound, id)
}

// Nova's wording of a refused aggregate action, by action.
const (
	aggregateActionAdd        = "Cannot add host to aggregate %d. Reason: %s."
	aggregateActionRemove     = "Cannot remove host from aggregate %d. Reason: %s."
	aggregateActionUpdate     = "Cannot update aggregate %d. Reason: %s."
	aggregateActionUpdateMeta = "Cannot update metadata of aggregate %d. Reason: %s."
)

// hostZone is the zone the aggregates give host ("": none): the zone of
// the first aggregate (by ID) that has the host and a zone, skipping
// aggregate skip. No two aggregates give one host different zones (the
// commands refuse it), so "first" only makes the answer stable.
func (s *State) hostZone(host string, skip uint64) string {
	best, zone := uint64(0), ""
	for _, a := range s.Aggregates {
		if a.ID != skip && a.Zone() != "" && slices.Contains(a.Hosts, host) && (best == 0 || a.ID < best) {
			best, zone = a.ID, a.Zone()
		}
	}
	return zone
}

// hostOut is a host as readers see it: with the availability zone its
// aggregates give it ("" when none; InZone falls back to its node's).
func (s *State) hostOut(h *Host) Host {
	c := *h
	c.AvailabilityZone = s.hostZone(h.Name, 0)
	return c
}

// aggregateByName is the aggregate named name, if any.
func (s *State) aggregateByName(name string) *Aggregate {
	for _, a := range s.Aggregates {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// checkAggregateText refuses an empty or too long name, key or value.
func checkAggregateText(what, v string, empty bool) error {
	if (!empty && v == "") || utf8.RuneCountInString(v) > MaxAggregateText {
		return fmt.Errorf("%w: an aggregate %s is 1 to %d characters", ErrInvalid, what, MaxAggregateText)
	}
	return nil
}

// checkZoneChange refuses to give a's hosts (or hosts, when given) zone:
// an empty zone, or a host that another aggregate puts in another zone
// (Nova's is_safe_to_update_az). kind is the sentinel the action answers
// with, format its wording.
func (s *State) checkZoneChange(a *Aggregate, zone string, hosts []string, kind error, format string) error {
	if zone == "" {
		return fmt.Errorf("%w: "+format, kind, a.ID, fmt.Sprintf("Aggregate %s does not support empty named availability zone", a.Name))
	}
	if hosts == nil {
		hosts = a.Hosts
	}
	var conflicting []string
	for _, h := range hosts {
		if z := s.hostZone(h, a.ID); z != "" && z != zone && !slices.Contains(conflicting, z) {
			conflicting = append(conflicting, z)
		}
	}
	if len(conflicting) > 0 {
		slices.Sort(conflicting)
		return fmt.Errorf("%w: "+format, kind, a.ID, "One or more hosts already in availability zone(s) "+pyList(conflicting))
	}
	return nil
}

// pyList writes names as Python writes a list of strings.
func pyList(names []string) string {
	out := "["
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += "'" + n + "'"
	}
	return out + "]"
}

// serversOn counts the servers the state gives host.
func (s *State) serversOn(host string) int {
	n := 0
	for _, i := range s.Instances {
		if i.Host == host {
			n++
		}
	}
	return n
}

// aggregateChanged marks a changed aggregate; a change to hosts or zone also
// changes what readers see of hosts.
func (s *State) aggregateChanged(a *Aggregate, index uint64, at time.Time, hostsToo bool) {
	a.ModifyIndex, a.Updated = index, at
	if hostsToo {
		s.hostsGen++
	}
}

// Aggregates lists the aggregates by ID.
func (f *FSM) Aggregates() []Aggregate {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := copyOut(f.state.Aggregates, (*Aggregate).clone)
	slices.SortFunc(out, func(a, b Aggregate) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Aggregate is one aggregate by ID.
func (f *FSM) Aggregate(id uint64) (Aggregate, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if a, ok := f.state.Aggregates[aggregateKey(id)]; ok {
		return a.clone(), nil
	}
	return Aggregate{}, errAggregateNotFound(id)
}

// InZone is the host's availability zone: AvailabilityZone as reads
// resolve it, else (a Host built by hand) its node's.
func (h Host) InZone() string {
	if h.AvailabilityZone != "" {
		return h.AvailabilityZone
	}
	return h.Zone
}
