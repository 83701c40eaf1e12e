package fsm

import (
	"fmt"
	"net/netip"
	"slices"
)

// External networks (Neutron's router:external networks) are where floating
// IPs come from. Their CIDR is on the hosts' uplink, so it must not overlap
// another network's; the gateway is the outside router, so it is never
// handed out.

// Validate checks what a CreateNetwork can be refused for whatever the
// state (ErrInvalid): the API's pre-check, and Apply's first one.
func (c *CreateNetwork) Validate() error {
	_, err := c.network()
	return err
}

// network builds the network a valid command creates, in canonical form:
// masked CIDR, pools sorted by start.
func (c *CreateNetwork) network() (*Network, error) {
	switch {
	case c.ID == "":
		return nil, fmt.Errorf("%w: a network needs an ID", ErrInvalid)
	case c.ID == DefaultNetworkID:
		return nil, fmt.Errorf("%w: network ID %q is the tenant network's", ErrInvalid, c.ID)
	case !c.External:
		return nil, fmt.Errorf("%w: only external networks can be created; the tenant network is made at bootstrap", ErrInvalid)
	}
	if err := validName("network name", c.Name); err != nil {
		return nil, err
	}
	p, err := parseCIDR(c.CIDR, 30)
	if err != nil {
		return nil, err
	}
	size := uint32(1) << (32 - p.Bits())
	inside := func(what, s string) (uint32, error) {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() || !p.Contains(a) {
			return 0, fmt.Errorf("%w: %s %q is not an address in %s", ErrInvalid, what, s, p)
		}
		off := offsetOf(p, a)
		if off == 0 || off == size-1 {
			return 0, fmt.Errorf("%w: %s %s is the network or broadcast address of %s", ErrInvalid, what, a, p)
		}
		return off, nil
	}
	gw := uint32(1)
	if c.Gateway != "" {
		if gw, err = inside("gateway", c.Gateway); err != nil {
			return nil, err
		}
	}
	var spans []span
	for _, r := range c.AllocationPools {
		lo, err := inside("allocation pool start", r.Start)
		if err != nil {
			return nil, err
		}
		hi, err := inside("allocation pool end", r.End)
		if err != nil {
			return nil, err
		}
		if lo > hi {
			return nil, fmt.Errorf("%w: allocation pool %s-%s starts after it ends", ErrInvalid, r.Start, r.End)
		}
		if lo <= gw && gw <= hi {
			return nil, fmt.Errorf("%w: allocation pool %s-%s holds the gateway %s", ErrInvalid, r.Start, r.End, offsetAddr(p, gw))
		}
		spans = append(spans, span{lo, hi})
	}
	slices.SortFunc(spans, func(a, b span) int { return int(int64(a.lo) - int64(b.lo)) })
	for k := 1; k < len(spans); k++ {
		if spans[k].lo <= spans[k-1].hi {
			return nil, fmt.Errorf("%w: allocation pools %s-%s and %s-%s overlap", ErrInvalid,
				offsetAddr(p, spans[k-1].lo), offsetAddr(p, spans[k-1].hi), offsetAddr(p, spans[k].lo), offsetAddr(p, spans[k].hi))
		}
	}
	if len(spans) == 0 {
		// Every usable address around the gateway.
		if gw > 1 {
			spans = append(spans, span{1, gw - 1})
		}
		if gw < size-2 {
			spans = append(spans, span{gw + 1, size - 2})
		}
		if len(spans) == 0 {
			return nil, fmt.Errorf("%w: network %s has no address left for floating IPs besides its gateway", ErrInvalid, p)
		}
	}
	n := &Network{ID: c.ID, Name: c.Name, CIDR: p.String(), Gateway: offsetAddr(p, gw).String(), External: true,
		ProjectID: c.ProjectID, Created: c.Time, Allocated: map[string]string{}, Cursor: spans[0].lo}
	for _, sp := range spans {
		n.AllocationPools = append(n.AllocationPools, IPRange{Start: offsetAddr(p, sp.lo).String(), End: offsetAddr(p, sp.hi).String()})
	}
	return n, nil
}

// allNetworks is the tenant network (if any), then the external ones in ID
// order: the order conflicts are reported in.
func (s *State) allNetworks() []*Network {
	var out []*Network
	if s.Network != nil {
		out = append(out, s.Network)
	}
	for _, id := range sortedKeys(s.Networks) {
		out = append(out, s.Networks[id])
	}
	return out
}

// sortedKeys is a map's keys in order, for deterministic iteration in Apply.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
