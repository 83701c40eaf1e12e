package fsm_test

import (
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// drainCommand starts or ends the drain of a host, drawn from g.drain
// alone so that the other entries of a seed's log stay what they were.
// Hosts come from registerHost's pool, so unknown hosts, drains already
// running and ends of drains that are not running all happen; some
// results are malformed.
func (g *logGen) drainCommand(at time.Time) fsm.Command {
	r := g.drain
	c := &fsm.DrainHost{Name: fmt.Sprintf("h%d", r.IntN(8)), Start: r.IntN(2) == 0, Time: at}
	if !c.Start {
		c.Result = []string{"", fsm.DrainDone, fsm.DrainFailed, "bogus"}[r.IntN(4)]
	}
	return c
}
