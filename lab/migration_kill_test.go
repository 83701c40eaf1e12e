//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// catchAttempts is how many live migrations a kill scenario starts before
// it gives up catching one in flight.
const catchAttempts = 3

// inFlight live-migrates g (writing its memory) to to, and returns true
// as soon as the checker sees its incoming domain paused on to while the
// API still shows it MIGRATING: the middle of the migration, libvirt
// copying memory. False when the migration ended first (then g is ACTIVE,
// wherever it ended).
func (m *migEnv) inFlight(g *lab.Guest, to *lab.Host) bool {
	m.t.Helper()
	m.attempts++
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	from := m.hostOf(g)
	start := time.Now()
	if _, err := m.api().LiveMigrate(ctx, g.ID, to.Name); err != nil {
		m.t.Fatalf("live-migrating %s %s→%s: %v", g.Name, from.Name, to.Name, err)
	}
	for time.Since(start) < migTimeout {
		round := fresh(m.t, m.chk)
		s, err := m.server(g.ID)
		if err != nil {
			continue
		}
		if s.Status != "MIGRATING" {
			m.waitServer(g.ID, settleTimeout, g.Name+" ACTIVE after its migration", func(s lab.Server) bool {
				return s.Status == "ACTIVE" && s.TaskState == ""
			})
			m.t.Logf("the migration %s→%s ended before it was caught in flight (%v): %s on %s", from.Name, to.Name,
				time.Since(start).Round(time.Millisecond), s.Status, s.Host)
			return false
		}
		if d, ok := round.Hosts[to.Name].Domains[g.ID]; ok && d.State == "paused" {
			m.t.Logf("%s in flight %s→%s after %v", g.Name, from.Name, to.Name, time.Since(start).Round(time.Millisecond))
			return true
		}
	}
	m.t.Fatalf("%s still MIGRATING %s→%s after %v", g.Name, from.Name, to.Name, migTimeout)
	return false
}

// catch puts g on source() (live, idle, when it is elsewhere), makes it
// write its memory, and live-migrates it to dest(source) until a
// migration is caught in flight; it returns both ends.
func (m *migEnv) catch(g *lab.Guest, source func() *lab.Host, dest func(*lab.Host) *lab.Host) (from, to *lab.Host) {
	m.t.Helper()
	for range catchAttempts {
		from = source()
		if m.hostOf(g) != from {
			m.liveTrial(g, from, nil)
		}
		m.run(g, busyCmd)
		to = dest(from)
		if m.inFlight(g, to) {
			return from, to
		}
	}
	m.t.Fatalf("no live migration of %s caught in flight in %d attempts: each ended within a checker round or two", g.Name, catchAttempts)
	return nil, nil
}

// followers returns a source that is not the leader, and a destination
// that is neither the source nor the leader.
func (m *migEnv) followers() (func() *lab.Host, func(*lab.Host) *lab.Host) {
	leader := m.leader()
	others := m.lab.Others(leader)
	source := func() *lab.Host {
		if cur := m.hostOf(m.g); cur != leader {
			return cur // no move needed
		}
		return others[0]
	}
	dest := func(from *lab.Host) *lab.Host {
		if from == others[0] {
			return others[1]
		}
		return others[0]
	}
	return source, dest
}

// settled waits until the guest runs exactly once, ACTIVE where the API
// says, off avoid, with no migration of it in progress; then until its
// console shell answers (a rebuilt guest boots again).
func (m *migEnv) settled(g *lab.Guest, avoid string, timeout time.Duration) lab.Server {
	m.t.Helper()
	got := m.waitPlaced(timeout, g.Name+" ACTIVE exactly once, off "+avoid, []string{g.ID}, avoid)[g.ID]
	testkit.WaitEvery(m.t, lab.Poll, settleTimeout, g.Name+"'s migrations ended", func() (bool, string) {
		rec, err := m.lastMigration(g.ID)
		if err != nil {
			return false, err.Error()
		}
		return ended(rec.Status), fmt.Sprintf("%+v", rec)
	})
	m.logMigrations(g)
	return got
}

// logMigrations logs g's last migration records.
func (m *migEnv) logMigrations(g *lab.Guest) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := m.api().Migrations(ctx, lab.MigrationFilter{InstanceID: g.ID})
	for i, r := range list {
		if i == 3 {
			break
		}
		m.t.Logf("%s migration %d: %s %s %s→%s %q", g.Name, r.ID, r.Kind, r.Status, r.Source, r.Dest, r.Message)
	}
	if err != nil {
		m.t.Logf("%s migrations: %v", g.Name, err)
	}
}

// killSource: the source host loses power while its guest's memory is
// being copied; the server ends ACTIVE exactly once (on the destination,
// adopted or rebuilt), and the source, back on, keeps no domain of it.
func killSource(t *testing.T, m *migEnv) { killEnd(t, m, true) }

// killTarget: the destination host loses power while the guest's memory
// is being copied to it; the server ends ACTIVE exactly once (on the
// source, libvirt having given up, or rebuilt elsewhere had it already
// switched over), and the target, back on, keeps no domain of it.
func killTarget(t *testing.T, m *migEnv) { killEnd(t, m, false) }

// killEnd powers off one end of a live migration in flight (the source or
// the target), waits for the server to run once elsewhere, and powers the
// host back on.
func killEnd(t *testing.T, m *migEnv, source bool) {
	g := m.g
	pick, dest := m.followers()
	from, to := m.catch(g, pick, dest)
	dead, role, other := to, "target", "from "+from.Name
	if source {
		dead, role, other = from, "source", "to "+to.Name
	}
	start := time.Now()
	dead.PowerOff()
	s := m.settled(g, dead.Name, failoverTimeout+lab.BootTimeout)
	m.figures[figKillRecovery].Add(time.Since(start))
	t.Logf("%s %s powered off mid migration %s: %s ACTIVE on %s after %v", role, dead.Name, other, g.Name, s.Host,
		time.Since(start).Round(time.Millisecond))
	m.powerBack(dead)
	m.waitShell(g)
	m.quiet(g)
	m.noViolations(0)
}

// killLeader: the leader's agent, on the source host, is killed (kill -9;
// libvirtd and QEMU run on) while the guest's memory is being copied; a
// new leader takes over, the agent comes back, and the server ends ACTIVE
// exactly once, its migration ended one way or the other.
func killLeader(t *testing.T, m *migEnv) {
	g := m.g
	leader := m.leader()
	survivors := m.lab.Others(leader)
	from, to := m.catch(g, func() *lab.Host { return leader }, func(*lab.Host) *lab.Host { return survivors[0] })
	start := time.Now()
	leader.KillAgent()
	testkit.WaitEvery(t, 50*time.Millisecond, failoverTimeout, "a new leader running the scheduler", func() (bool, string) {
		return newLeader(t, survivors)
	})
	leader.StartAgent()
	testkit.WaitEvery(t, lab.Poll, failoverTimeout, leader.Name+" a member again, not fenced", func() (bool, string) {
		return leader.MemberOK(survivors[0])
	})
	s := m.settled(g, "", failoverTimeout+lab.BootTimeout)
	m.figures[figKillRecovery].Add(time.Since(start))
	t.Logf("leader %s's agent killed mid migration %s→%s: %s ACTIVE on %s after %v", leader.Name, from.Name, to.Name, g.Name, s.Host,
		time.Since(start).Round(time.Millisecond))
	for _, h := range m.lab.Others(m.lab.Host(s.Host)) {
		m.waitUndefined(h, []string{g.ID})
	}
	m.waitShell(g)
	m.quiet(g)
	m.noViolations(0)
}

// powerBack powers h on and waits until it is a member again, unfenced,
// holding no domain of the guest.
func (m *migEnv) powerBack(h *lab.Host) {
	m.t.Helper()
	h.PowerOn()
	peer := m.lab.Others(h)[0]
	testkit.WaitEvery(m.t, lab.Poll, failoverTimeout, h.Name+" a member again, not fenced", func() (bool, string) {
		return h.MemberOK(peer)
	})
	m.waitUndefined(h, []string{m.g.ID})
	m.waitPlaced(settleTimeout, m.g.Name+" running once, where the API says", []string{m.g.ID}, "")
}
