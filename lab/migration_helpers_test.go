//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

const (
	// bigFlavor is what the resize scenario grows the tiny guest to.
	bigFlavor = "lab.tiny.big"
	bigRAM    = 192 // MiB
	bigDisk   = 2   // GiB

	// migTimeout bounds one migration, from the API call to the server
	// settled, for a guest writing its memory under TCG.
	migTimeout = 3 * time.Minute
	// pingEvery is the downtime probe's interval: its resolution.
	pingEvery = 10 * time.Millisecond

	// busyCmd starts (unless it runs) a loop in the tiny guest that
	// rewrites 24 MiB of tmpfs without end, so that a live migration has
	// pages dirtied faster than it copies them; idleCmd stops it.
	busyCmd = "[ -f /tmp/busy.pid ] && kill -0 $(cat /tmp/busy.pid) 2>/dev/null || " +
		"{ (while :; do dd if=/dev/zero of=/tmp/busy bs=1M count=24 2>/dev/null; done) </dev/null >/dev/null 2>&1 & echo $! >/tmp/busy.pid; }"
	idleCmd = "[ -f /tmp/busy.pid ] && kill $(cat /tmp/busy.pid); rm -f /tmp/busy /tmp/busy.pid; true"
)

// migEnv is the lab of TestLabMigration: the failover env (blank flavor
// and image), the tiny image, and a tiny guest with a floating IP that the
// outside can ping.
type migEnv struct {
	env
	*migState
}

type migState struct {
	g        *lab.Guest // mig-a
	fip      string
	figures  map[string]*lab.Figures
	attempts int // how many migrations the kill scenarios tried to catch in flight
}

// The figures of TestLabMigration.
const (
	figLiveIdle     = "live migration idle"
	figDownIdle     = "live migration idle downtime"
	figLiveBusy     = "live migration memory-busy"
	figDownBusy     = "live migration memory-busy downtime"
	figCold         = "cold migration to VERIFY_RESIZE"
	figDrain        = "drain of a host"
	figKillRecovery = "kill mid live migration to ACTIVE once"
)

func (m *migEnv) with(t *testing.T) *migEnv {
	c := *m
	c.env.t = t
	return &c
}

func setupMigration(t *testing.T) *migEnv {
	e := setup(t)
	if !e.lab.AgentFlag("--migration-uri") {
		// Without it the agents would dial each other's libvirtd over TLS,
		// which the lab does not set up.
		t.Fatal("this shoal agent has no --migration-uri flag: build it from this tree (SHOAL_BIN)")
	}
	names := []string{figLiveIdle, figDownIdle, figLiveBusy, figDownBusy, figCold, figDrain, figKillRecovery}
	figs := reported(t, names...)
	m := &migEnv{env: *e, migState: &migState{figures: map[string]*lab.Figures{}}}
	for i, n := range names {
		m.figures[n] = figs[i]
	}
	// The uploading host keeps the image for the others to fetch: the
	// leader, which no scenario powers off.
	leader := m.leader()
	m.lab.UploadTinyImage(leader)
	api := leader.API.WithTimeout(10 * time.Second)
	m.g = m.lab.CreateGuest(leader, "mig-a", m.lab.Others(leader)[0])
	s := m.g.WaitBooted(lab.BootTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := api.CreateFlavor(ctx, bigFlavor, 1, bigRAM, bigDisk); err != nil {
		t.Fatalf("creating flavor %s: %v", bigFlavor, err)
	}

	public, err := api.CreateNetwork(ctx, lab.NetworkCreate{Name: "public", External: true, CIDR: "10.66.0.0/24",
		Gateway: "10.66.0.1", AllocationPools: []lab.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}})
	if err != nil {
		t.Fatalf("creating the external network: %v", err)
	}
	fip, err := api.CreateFloatingIP(ctx, public.Name)
	if err != nil {
		t.Fatalf("allocating a floating IP: %v", err)
	}
	m.fip = fip.IP
	if err := api.ServerAction(ctx, m.g.ID, "add-floating-ip", "address", m.fip); err != nil {
		t.Fatalf("attaching %s to %s: %v", m.fip, m.g.Name, err)
	}
	ping, err := api.CreateSecurityGroup(ctx, "lab-ping")
	if err != nil {
		t.Fatalf("creating group lab-ping: %v", err)
	}
	if _, err := api.CreateSecurityGroupRule(ctx, lab.IngressRule(ping.ID, "icmp", nil, "")); err != nil {
		t.Fatalf("opening icmp in lab-ping: %v", err)
	}
	if err := api.ServerAction(ctx, m.g.ID, "add-security-group", "name", ping.Name); err != nil {
		t.Fatalf("adding %s to lab-ping: %v", m.g.Name, err)
	}
	p, err := m.lab.PingEvery(context.Background(), m.fip, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	testkit.WaitEvery(t, lab.Poll, netTimeout, "the outside's pings of "+m.fip+" answered", func() (bool, string) {
		sent, got, _, err := p.Stats()
		return got > 0, fmt.Sprintf("%d sent, %v", sent, err)
	})
	t.Logf("guest %s (%s, floating %s) on %s answers pings from the outside; leader %s", m.g.Name, s.FixedIP(), m.fip, s.Host, leader.Name)
	return m
}

// server reads a server from the first host that answers.
func (m *migEnv) server(id string) (lab.Server, error) {
	var errs []string
	for _, h := range m.lab.Up() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := h.API.Server(ctx, id)
		cancel()
		if err == nil {
			return s, nil
		}
		errs = append(errs, h.Name+": "+err.Error())
	}
	return lab.Server{}, fmt.Errorf("no host shows %s: %s", id, strings.Join(errs, "; "))
}

// waitServer polls server id every 50 ms until ok holds, and returns it.
func (m *migEnv) waitServer(id string, timeout time.Duration, what string, ok func(lab.Server) bool) lab.Server {
	m.t.Helper()
	var got lab.Server
	testkit.WaitEvery(m.t, 50*time.Millisecond, timeout, what, func() (bool, string) {
		s, err := m.server(id)
		if err != nil {
			return false, err.Error()
		}
		got = s
		return ok(s), fmt.Sprintf("%s on %q, task %q, flavor %q", s.Status, s.Host, s.TaskState, s.Flavor.Name)
	})
	return got
}

// waitMove is waitServer for the outcome of a move asked at start: it
// fails at once, with the record's message, when the server's newest
// migration (made since start) has ended failed or in error while the
// server waits idle (no task) short of ok.
func (m *migEnv) waitMove(id string, start time.Time, timeout time.Duration, what string, ok func(lab.Server) bool) lab.Server {
	m.t.Helper()
	return m.waitServer(id, timeout, what, func(s lab.Server) bool {
		if ok(s) {
			return true
		}
		if s.TaskState == "" && time.Since(start) > time.Second {
			if r, err := m.lastMigration(id); err == nil && (r.Status == "failed" || r.Status == "error") && !r.Created.Before(start.Add(-5*time.Second)) {
				m.t.Fatalf("waiting for %s: its %s %d (%s→%s) ended %s: %q; the server is %s on %s",
					what, r.Kind, r.ID, r.Source, r.Dest, r.Status, r.Message, s.Status, s.Host)
			}
		}
		return false
	})
}

// api is a client of the leader for the scenarios' writes.
func (m *migEnv) api() *lab.Client { return m.leader().API.WithTimeout(30 * time.Second) }

// lastMigration is the newest migration record of server id.
func (m *migEnv) lastMigration(id string) (lab.Migration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, h := range m.lab.Up() {
		list, err := h.API.Migrations(ctx, lab.MigrationFilter{InstanceID: id})
		if err != nil {
			continue
		}
		if len(list) == 0 {
			return lab.Migration{}, fmt.Errorf("no migration of %s", id)
		}
		return list[0], nil
	}
	return lab.Migration{}, fmt.Errorf("no host lists migrations")
}

// ended reports whether a migration status is final (fsm.Migration.Ended).
func ended(status string) bool {
	return slices.Contains([]string{"completed", "failed", "error", "confirmed", "reverted", "done"}, status)
}

// liveTrial live-migrates g to to and waits until the API shows it ACTIVE
// there and libvirt runs it there alone; took is from the API call to the
// first poll that saw it ACTIVE there. With a pinger, down is the longest
// gap between its replies from the call until the first reply one second
// after that (the path through the floating IP settled).
func (m *migEnv) liveTrial(g *lab.Guest, to *lab.Host, p *lab.Pinger) (took, down time.Duration, rec lab.Migration) {
	m.t.Helper()
	from := m.hostOf(g)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := m.api().LiveMigrate(ctx, g.ID, to.Name); err != nil {
		m.t.Fatalf("live-migrating %s %s→%s: %v", g.Name, from.Name, to.Name, err)
	}
	m.waitMove(g.ID, start, migTimeout, fmt.Sprintf("%s ACTIVE on %s", g.Name, to.Name), func(s lab.Server) bool {
		return s.Status == "ACTIVE" && s.Host == to.Name && s.TaskState == ""
	})
	took = time.Since(start)
	m.waitPlaced(settleTimeout, g.Name+" running on "+to.Name+" alone", []string{g.ID}, from.Name)
	if p != nil {
		after := time.Now().Add(time.Second)
		var end time.Time
		testkit.WaitEvery(m.t, 20*time.Millisecond, netTimeout, "a reply through "+m.fip+" after the move", func() (bool, string) {
			r, ok := lab.FirstAfter(p.Replies(), after)
			end = r
			if ok || time.Since(after) < 5*time.Second {
				return ok, "none yet"
			}
			// Where the outside sends the floating IP's packets, and
			// which hosts hold it on their uplink.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			neigh, _ := m.lab.Outside(ctx, "ip", "neigh", "show", m.fip)
			var on []string
			for _, h := range m.lab.Up() {
				if out, err := h.Exec(ctx, "ip", "-4", "-o", "addr", "show", "dev", "eth0"); err == nil && strings.Contains(out, " "+m.fip+"/") {
					on = append(on, h.Name)
				}
			}
			// And what the guest's domain is on its new host, and the
			// last lines it printed.
			state, err := to.Exec(ctx, "virsh", "-c", "qemu:///system", "domstate", "--reason", "shoal-"+g.ID)
			if err != nil {
				state += err.Error()
			}
			tap, _ := to.Exec(ctx, "ip", "-d", "link", "show", "dev", "tap"+g.ID[:11])
			cons, _ := g.Console(ctx)
			if lines := strings.Split(strings.TrimSpace(cons), "\n"); len(lines) > 8 {
				cons = strings.Join(lines[len(lines)-8:], "\n")
			}
			return false, fmt.Sprintf("none yet; the outside's neighbour entry: %q; held on the uplink of %v; domain on %s: %q; its port: %q; console tail:\n%s",
				strings.TrimSpace(neigh), on, to.Name, strings.TrimSpace(state), strings.TrimSpace(tap), cons)
		})
		var began time.Time
		down, began = lab.LongestGap(p.Replies(), start, end)
		m.t.Logf("%s→%s: the longest gap in the replies through %s began %v after the call (ACTIVE there seen after %v)",
			from.Name, to.Name, m.fip, began.Sub(start).Round(time.Millisecond), took.Round(time.Millisecond))
	}
	rec, err := m.lastMigration(g.ID)
	if err != nil {
		m.t.Fatal(err)
	}
	if rec.Kind != "live-migration" || rec.Status != "completed" || rec.Source != from.Name || rec.Dest != to.Name {
		m.t.Errorf("migration record %+v, want a completed live-migration %s→%s", rec, from.Name, to.Name)
	}
	return took, down, rec
}

// run runs a command on g's console and fails the test unless it exits 0.
func (m *migEnv) run(g *lab.Guest, cmd string) string {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guestTimeout)
	defer cancel()
	out, rc, err := g.Run(ctx, cmd)
	if err != nil || rc != 0 {
		m.t.Fatalf("%s: %q: rc %d, %v\n%s", g.Name, cmd, rc, err, out)
	}
	return out
}

// quiet stops g's memory writer, if its console answers; errors are only
// logged (a cleanup).
func (m *migEnv) quiet(g *lab.Guest) {
	ctx, cancel := context.WithTimeout(context.Background(), guestTimeout)
	defer cancel()
	if out, rc, err := g.Run(ctx, idleCmd); err != nil || rc != 0 {
		m.t.Logf("%s: stopping the memory writer: rc %d, %v: %q", g.Name, rc, err, out)
	}
}

// waitShell waits until g's console shell answers (a guest that failover
// rebuilt boots again; one that libvirt finished moving answers at once).
func (m *migEnv) waitShell(g *lab.Guest) {
	m.t.Helper()
	testkit.WaitEvery(m.t, lab.Poll, lab.BootTimeout, g.Name+"'s console shell to answer", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, rc, err := g.Run(ctx, "true")
		return err == nil && rc == 0, fmt.Sprintf("rc %d, %v: %q", rc, err, out)
	})
}

// memTotal is the guest's MemTotal in KiB.
func (m *migEnv) memTotal(g *lab.Guest) int {
	m.t.Helper()
	out := m.run(g, "grep MemTotal /proc/meminfo")
	f := strings.Fields(out)
	if len(f) < 2 {
		m.t.Fatalf("%s: MemTotal line %q", g.Name, out)
	}
	kb, err := strconv.Atoi(f[1])
	if err != nil {
		m.t.Fatalf("%s: MemTotal line %q: %v", g.Name, out, err)
	}
	return kb
}

// Markers on the tiny guest's disk, written past its FAT volume (40 MiB)
// into the flavor's 1 GiB, one 512-byte sector each: the disk, not RAM,
// carries them through a resize and its revert.
const (
	oldSector = 1 << 20 // 512 MiB
	newSector = oldSector + 8
)

// writeMarker writes text into sector of g's disk and flushes it.
func (m *migEnv) writeMarker(g *lab.Guest, sector int, text string) {
	m.t.Helper()
	m.run(g, fmt.Sprintf("printf '%s\\n' | dd of=/dev/vda bs=512 seek=%d count=1 conv=sync 2>/dev/null && sync", text, sector))
}

// marker reads the line at sector of g's disk ("" when the sector holds
// no text).
func (m *migEnv) marker(g *lab.Guest, sector int) string {
	m.t.Helper()
	out := m.run(g, fmt.Sprintf("dd if=/dev/vda bs=512 skip=%d count=1 2>/dev/null | tr -d '\\000' | head -n 1", sector))
	return strings.TrimSpace(out)
}

// recoverLab powers on every powered-off host and starts every stopped
// agent, then waits for a healthy cluster: a failed scenario must not
// leave the next one a broken lab.
func (m *migEnv) recoverLab() {
	m.t.Helper()
	for _, h := range m.lab.Hosts {
		if h.AgentRunning() {
			continue
		}
		m.t.Logf("recovering %s", h.Name)
		if !h.PoweredOn() {
			h.PowerOn()
		} else {
			h.StartAgent()
		}
	}
	m.lab.WaitHealthy(2 * time.Minute)
	m.quiet(m.g)
}
