package fsm_test

import (
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// adminCommand is one of the admin's cluster-wide commands (quota classes),
// drawn from g.admin alone so that the other entries of a seed's log stay
// what they were. Class names come from a small pool with the default
// class among them, so the projects' quotas (and the quota refusals of
// later creates) move with it; some commands are malformed.
func (g *logGen) adminCommand(at time.Time) fsm.Command {
	r := g.admin
	var q fsm.QuotaOverride
	for range 1 + r.IntN(3) {
		q.Set(fsm.QuotaNames()[r.IntN(len(fsm.QuotaNames()))], []int{-2, -1, 3, 50, 100}[r.IntN(5)]) // -2 is refused
	}
	name := []string{fsm.DefaultQuotaClass, fsm.DefaultQuotaClass, "gold", ""}[r.IntN(4)]
	_ = at
	return &fsm.SetQuotaClass{Name: name, Quota: q}
}

// adminName is a class or aggregate name from a pool of n.
func adminName(g *logGen, prefix string, n int) string {
	return fmt.Sprintf("%s%d", prefix, g.admin.IntN(n))
}

// adminTypes are the commands adminCommand draws.
var adminTypes = []fsm.Type{fsm.TypeSetQuotaClass}

// typesFrom lists the types first to last.
func typesFrom(first, last fsm.Type) []fsm.Type {
	var out []fsm.Type
	for typ := first; typ <= last; typ++ {
		out = append(out, typ)
	}
	return out
}
