package fsm_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// migrationTypes are the commands migrationCommand draws; the moves they
// start go on through the generator's plans and host reports.
var migrationTypes = []fsm.Type{fsm.TypeMigrateInstance, fsm.TypeResizeDecision}

// migrationStatuses are the statuses servers go through while moving.
var migrationStatuses = []string{"MIGRATING", "RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE"}

// migrationCommand is a move (live, cold, resize; to a named host or
// not) or a resize's confirm or revert, drawn from g.mig alone so that
// the other entries of a seed's log stay what they were. Most are of
// servers that can move or decide, a share refused by construction; nil
// (no entry) most of the times the model has no such server.
func (g *logGen) migrationCommand(index uint64, at time.Time) fsm.Command {
	r := g.mig
	kinds := []string{fsm.MigrationLive, fsm.MigrationCold, fsm.MigrationResize, fsm.MigrationResize}
	kind := kinds[r.IntN(len(kinds))]
	var movable, resized []fsm.Instance // by the kind's vm_states, mostly
	for _, i := range g.idle() {
		if i.VMState == fsm.VMActive || i.VMState == fsm.VMStopped && kind != fsm.MigrationLive ||
			i.VMState == fsm.VMPaused && kind == fsm.MigrationLive || r.IntN(8) == 0 {
			movable = append(movable, i)
		}
	}
	insts := g.model.Instances(nil)
	for _, i := range insts {
		if i.VMState == fsm.VMResized && i.TaskState == fsm.TaskNone {
			resized = append(resized, i)
		}
	}
	if len(movable) == 0 && len(resized) == 0 && r.IntN(5) != 0 {
		return nil
	}
	id := fmt.Sprintf("i%d", r.IntN(40))
	if len(insts) > 0 && r.IntN(6) != 0 {
		id = insts[r.IntN(len(insts))].ID
	}
	if len(resized) > 0 && r.IntN(2) == 0 || r.IntN(6) == 0 {
		c := &fsm.ResizeDecision{ID: id, Revert: r.IntN(2) == 0, RequestID: fmt.Sprintf("req-%d", index), Admin: r.IntN(3) == 0, Time: at}
		if len(resized) > 0 && r.IntN(5) != 0 {
			c.ID = resized[r.IntN(len(resized))].ID
		}
		return c
	}
	if len(movable) > 0 && r.IntN(5) != 0 {
		id = movable[r.IntN(len(movable))].ID
	}
	c := &fsm.MigrateInstance{ID: id, Kind: kind, Ratios: fsm.DefaultRatios,
		MigrationUUID: fmt.Sprintf("mig-%d", index), RequestID: fmt.Sprintf("req-%d", index), Admin: r.IntN(4) != 0, Time: at}
	if r.IntN(20) == 0 {
		c.Kind = "teleport" // invalid
	}
	if r.IntN(2) == 0 {
		c.Host = fmt.Sprintf("h%d", r.IntN(8))
		if hosts := g.model.Hosts(); len(hosts) > 0 && r.IntN(4) != 0 {
			c.Host = hosts[r.IntN(len(hosts))].Name
		}
		if r.IntN(10) == 0 {
			c.Ratios.RAM = 0 // invalid for a named host
		}
	}
	if c.Kind == fsm.MigrationResize {
		c.FlavorID = fmt.Sprintf("f%d", r.IntN(10))
		if fl := g.model.Flavors(); len(fl) > 0 && r.IntN(5) != 0 {
			c.FlavorID = fl[r.IntN(len(fl))].ID
		}
	}
	if r.IntN(2) == 0 {
		c.ProjectID, c.UserID = fmt.Sprintf("p%d", r.IntN(3)), fmt.Sprintf("u%d", r.IntN(2))
	}
	return c
}

// migWorld draws a log of a small cluster whose servers move a lot: the
// moves and decisions above, the plans and host reports that carry them
// on (Dones of every step, failed, stale or from the wrong end), and what
// interrupts them (hosts down and up, forced down, evacuations, deletes,
// reset-state). It applies what it draws to its model, as logGen does.
type migWorld struct {
	*logGen
	servers int
}

func newMigWorld(seed uint64) *migWorld {
	g := newLogGen(seed)
	g.mig = rand.New(rand.NewPCG(seed, seed^0x316))
	return &migWorld{logGen: g}
}

func (g *migWorld) setup() []fsm.Command {
	cmds := []fsm.Command{
		&fsm.Bootstrap{ClusterID: "c", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: "10.9.0.0/24"},
		&fsm.CreateImage{Image: activeImage(testImage)},
		&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "anti", Name: "anti", Policy: fsm.PolicyAntiAffinity, Created: t0}},
	}
	for k := range 4 {
		h := fmt.Sprintf("h%d", k)
		cmds = append(cmds, registerHost(h, t0), inventory(h, 8, 16384, 100))
	}
	return cmds
}

func (g *migWorld) command(index uint64) fsm.Command {
	r, at := g.mig, stamp(index)
	insts := g.model.Instances(nil)
	some := func() string {
		if len(insts) == 0 || r.IntN(10) == 0 {
			return fmt.Sprintf("s%d", r.IntN(g.servers+1))
		}
		return insts[r.IntN(len(insts))].ID
	}
	host := func() string { return fmt.Sprintf("h%d", r.IntN(5)) } // h4 is unknown
	switch n := r.IntN(100); {
	case n < 10:
		c := &fsm.CreateInstances{RequestID: fmt.Sprintf("req-%d", index), ProjectID: "p1", UserID: "u1", Time: at}
		for range 1 + r.IntN(2) {
			g.servers++
			s := server(fmt.Sprintf("s%d", g.servers))
			s.FlavorID = []string{"1", "2", "3"}[r.IntN(3)]
			if r.IntN(8) == 0 {
				s.HA = fsm.HANone
			}
			if r.IntN(6) == 0 {
				s.ServerGroupID = "anti"
			}
			c.Instances = append(c.Instances, s)
		}
		return c
	case n < 30:
		if c := g.migrationCommand(index, at); c != nil {
			return c
		}
		return &fsm.MigrateInstance{ID: some(), Kind: fsm.MigrationLive, Ratios: fsm.DefaultRatios, Admin: true, Time: at}
	case n < 45:
		p := &fsm.Plan{Time: at, RequestID: fmt.Sprintf("plan-%d", index), Ratios: fsm.DefaultRatios, MaxAttempts: 2 + r.IntN(4)}
		for _, i := range g.model.SchedulingView(0).Pending {
			switch k := r.IntN(20); {
			case k < 16:
				p.Placements = append(p.Placements, fsm.Placement{InstanceID: i.ID, Host: host()})
			case k < 17:
				p.Failures = append(p.Failures, fsm.PlanFailure{InstanceID: i.ID, Reason: fsm.NoValidHost})
			}
		}
		return p
	case n < 80:
		return g.migReport(r, at, insts)
	case n < 83:
		return &fsm.MarkHostDown{Name: host(), LastSeen: at.Add(-time.Second), Reason: "lease expired", RequestID: "req-down", Time: at}
	case n < 88:
		return &fsm.MarkHostUp{Name: host(), Time: at}
	case n < 90:
		return &fsm.ForceHostDown{Name: host(), ForcedDown: r.IntN(2) == 0, Time: at}
	case n < 92:
		c := &fsm.EvacuateInstances{IDs: []string{some()}, RequestID: "req-evac", Time: at}
		if r.IntN(2) == 0 {
			c.TargetHost = host()
		}
		return c
	case n < 96:
		c := &fsm.InstanceAction{ID: some(), Action: fsm.ActionDelete, RequestID: "req-delete", Time: at}
		for _, i := range insts {
			if i.VMState == fsm.VMError && r.IntN(2) == 0 {
				c.ID = i.ID // mostly the broken ones
				break
			}
		}
		return c
	case n < 98:
		return &fsm.InstanceAction{ID: some(), Action: fsm.ActionResetState, State: []string{"active", "active", "error"}[r.IntN(3)],
			RequestID: "req-reset", Time: at}
	default:
		return &fsm.InstanceAction{ID: some(), Action: []string{fsm.ActionStop, fsm.ActionStart, fsm.ActionPause}[r.IntN(3)],
			RequestID: "req-act", Time: at}
	}
}

// migReport is a host's report: mostly the Done of a busy server's task
// by its host, now and then failed, stale, or from the other end of a move.
func (g *migWorld) migReport(r *rand.Rand, at time.Time, insts []fsm.Instance) fsm.Command {
	var busy []fsm.Instance
	for _, i := range insts {
		if i.Host != "" && i.TaskState != fsm.TaskNone {
			busy = append(busy, i)
		}
	}
	host := fmt.Sprintf("h%d", r.IntN(4))
	if len(busy) > 0 && r.IntN(5) != 0 {
		host = busy[r.IntN(len(busy))].Host
	}
	c := &fsm.ReportInstances{Host: host, Time: at}
	on := g.model.InstancesOnHost(host)
	if r.IntN(6) == 0 { // the other end answers for the servers moving with it
		on = on[:0]
		for _, m := range g.model.MovingWith(host) {
			on = append(on, m.Instance)
		}
	}
	for _, i := range on {
		rep := fsm.InstanceReport{ID: i.ID, PowerState: fsm.PowerRunning, Done: i.TaskState, TaskIndex: i.TaskIndex}
		switch k := r.IntN(20); {
		case k < 2:
			rep.Error = "boom"
		case k < 4:
			rep.TaskIndex++ // stale
		case k < 5:
			rep.Done, rep.PowerState = "", fsm.PowerShutdown
		}
		c.Reports = append(c.Reports, rep)
	}
	return c
}

// checkMoves checks what a move must never leave: a busy server with no
// host that the scheduler does not wait for, or a moving task without a
// migration in progress.
func checkMoves(t testing.TB, f *fsm.FSM) {
	t.Helper()
	for _, i := range f.Instances(nil) {
		if i.Host == "" && i.TaskState != fsm.TaskNone && !i.Pending() && i.TaskState != fsm.TaskDeleting {
			t.Fatalf("server %s is busy nowhere: %s", i.ID, describe(i))
		}
		switch i.TaskState {
		case fsm.TaskMigrating, fsm.TaskResizePrep, fsm.TaskResizeMigrating, fsm.TaskResizeFinish,
			fsm.TaskResizeReverting, fsm.TaskResizeRevertFinish:
			if _, err := f.MigrationOf(i.ID); err != nil {
				t.Fatalf("server %s in %s without a migration: %v", i.ID, i.TaskState, err)
			}
		}
		if i.VMState == fsm.VMResized && i.TaskState == fsm.TaskNone {
			if m, err := f.MigrationOf(i.ID); err != nil || m.Status != fsm.MigrationFinished {
				t.Fatalf("server %s in VERIFY_RESIZE with migration %+v, %v", i.ID, m, err)
			}
		}
	}
}

// Two replicas fed the same log of moves end identical, as does one that
// restores a snapshot halfway; the claims (both ends) and the records stay
// consistent all along, and the logs go through every status of a move
// and reach each outcome of a migration record.
func TestDeterministicMigrations(t *testing.T) {
	statuses, records := map[string]int{}, map[string]int{}
	ok, total := map[fsm.Type]int{}, map[fsm.Type]int{}
	for _, seed := range []uint64{1, 2, 3, 4, 5, 42} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := newMigWorld(seed)
			var log [][]byte
			for _, c := range g.setup() {
				log = append(log, encode(t, c))
				g.model.ApplyEntry(uint64(len(log)), log[len(log)-1])
			}
			for range 700 {
				index := uint64(len(log) + 1)
				log = append(log, encode(t, g.command(index)))
				g.model.ApplyEntry(index, log[len(log)-1])
				for _, i := range g.model.Instances(nil) {
					statuses[i.Status()]++
				}
				for _, m := range g.model.Migrations(func(m *fsm.Migration) bool { return m.ModifyIndex == index }) {
					records[m.Kind+" "+m.Status]++
				}
				if index%50 == 0 {
					checkDerived(t, g.model)
					checkMoves(t, g.model)
				}
			}
			a, b := fsm.New(), fsm.New()
			resA, resB := replay(a, log, 1), replay(b, log, 1)
			for i := range resA {
				if resA[i] != resB[i] {
					t.Fatalf("entry %d: replica a got %s, b got %s", i+1, resA[i], resB[i])
				}
			}
			sameSnapshot(t, "replicas", a, b)
			half := len(log) / 2
			c := fsm.New()
			replay(c, log[:half], 1)
			d := fsm.New()
			restore(t, d, snapshotBytes(t, c))
			replay(d, log[half:], uint64(half+1))
			sameSnapshot(t, "restored replica", a, d)
			assertSameReads(t, a, d)
			checkDerived(t, a)
			checkMoves(t, a)
			countResults(t, log, ok, total)
		})
	}
	t.Logf("statuses: %v", statuses)
	t.Logf("records: %v", records)
	for _, s := range migrationStatuses {
		if statuses[s] == 0 {
			t.Errorf("no server was ever %s", s)
		}
	}
	for _, r := range []string{"live-migration completed", "live-migration failed", "live-migration error",
		"migration confirmed", "resize confirmed", "resize reverted", "resize error", "evacuation done"} {
		if records[r] == 0 {
			t.Errorf("no migration ended %q", r)
		}
	}
	for _, typ := range migrationTypes {
		t.Logf("%-22s %3d of %3d ok", typ, ok[typ], total[typ])
		if ok[typ] == 0 || ok[typ] == total[typ] {
			t.Errorf("%s: %d of %d succeeded; want some successes and some failures", typ, ok[typ], total[typ])
		}
	}
}
