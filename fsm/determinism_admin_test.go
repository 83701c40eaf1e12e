package fsm_test

import (
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// adminCommand is one of the admin's cluster-wide commands (quota classes,
// aggregates), drawn from g.admin alone so that the other entries of a
// seed's log stay what they were. Names, hosts and zones come from small
// pools, so duplicates, unknown aggregates, zone conflicts and hosts with
// servers all happen; some commands are malformed.
func (g *logGen) adminCommand(at time.Time) fsm.Command {
	r := g.admin
	if r.IntN(4) == 0 {
		return g.quotaClass()
	}
	id := g.aggregateID()
	host := fmt.Sprintf("h%d", r.IntN(8)) // the hosts registerHost draws from
	switch r.IntN(6) {
	case 0:
		c := &fsm.CreateAggregate{UUID: fmt.Sprintf("agg-%d", r.IntN(40)), Name: adminName(g, "agg", 5), Time: at}
		if r.IntN(2) == 0 {
			c.Zone = adminName(g, "az", 3)
		}
		if r.IntN(10) == 0 {
			c.Name = ""
		}
		return c
	case 1:
		c := &fsm.UpdateAggregate{ID: id, SetMetadata: r.IntN(2) == 0, Time: at}
		if r.IntN(3) == 0 {
			name := adminName(g, "agg", 5)
			c.Name = &name
		}
		c.Metadata = map[string]*string{}
		for range r.IntN(3) {
			key := []string{fsm.AggregateZoneKey, "ssd", "gpu"}[r.IntN(3)]
			value := adminName(g, "az", 3)
			switch r.IntN(5) {
			case 0:
				c.Metadata[key] = nil
			case 1:
				value = ""
				fallthrough
			default:
				c.Metadata[key] = &value
			}
		}
		return c
	case 2:
		return &fsm.DeleteAggregate{ID: id}
	case 3, 4:
		return &fsm.AddAggregateHost{ID: id, Host: host, Time: at}
	default:
		if a, err := g.model.Aggregate(id); err == nil && len(a.Hosts) > 0 && r.IntN(4) != 0 {
			host = a.Hosts[r.IntN(len(a.Hosts))]
		}
		return &fsm.RemoveAggregateHost{ID: id, Host: host, Time: at}
	}
}

// aggregateID is the ID of one of the model's aggregates, or now and then
// one that is not there.
func (g *logGen) aggregateID() uint64 {
	aggs := g.model.Aggregates()
	if len(aggs) == 0 || g.admin.IntN(6) == 0 {
		return uint64(g.admin.IntN(50))
	}
	return aggs[g.admin.IntN(len(aggs))].ID
}

// quotaClass sets some limits of a class. The default class gets only
// limits and values that leave servers room to be made, so the rest of
// the log still exercises the servers' life.
func (g *logGen) quotaClass() fsm.Command {
	r := g.admin
	name := []string{fsm.DefaultQuotaClass, "gold", ""}[r.IntN(3)]
	keys := fsm.QuotaNames()
	if name == fsm.DefaultQuotaClass {
		keys = []string{fsm.QuotaKeyPairs, fsm.QuotaMetadataItems, fsm.QuotaSecurityGroups, fsm.QuotaInjectedFiles}
	}
	var q fsm.QuotaOverride
	for range 1 + r.IntN(3) {
		q.Set(keys[r.IntN(len(keys))], []int{-2, -1, 50, 100}[r.IntN(4)]) // -2 is refused
	}
	return &fsm.SetQuotaClass{Name: name, Quota: q}
}

// adminName is a name from a pool of n.
func adminName(g *logGen, prefix string, n int) string {
	return fmt.Sprintf("%s%d", prefix, g.admin.IntN(n))
}

// adminTypes are the commands adminCommand draws.
var adminTypes = []fsm.Type{fsm.TypeCreateAggregate, fsm.TypeUpdateAggregate, fsm.TypeDeleteAggregate,
	fsm.TypeAddAggregateHost, fsm.TypeRemoveAggregateHost, fsm.TypeSetQuotaClass}
