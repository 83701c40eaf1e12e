//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/lab"
)

// TestHarness checks the lab itself, with no failover expected: servers run
// where the API says and the checker sees them there; power-off, power-on,
// partition and heal do what they say; a kill of the agent leaves its
// domains running.
func TestHarness(t *testing.T) {
	e := setup(t)
	h3 := e.lab.Host("h3")
	servers := e.create(e.lab.Host("h1"), "harness", e.sized(2), h3)
	e.waitPlaced(settleTimeout, "servers on h3", ids(servers), "")

	t.Run("checker catches impostors", func(t *testing.T) { impostors(t, e, servers[0], e.lab.Host("h2")) })
	migrationListeners(t, e)
	libvirtMigrates(t, e, e.lab.Host("h1"), e.lab.Host("h2"))
	outsidePings(t, e)

	h3.KillAgent()
	round := fresh(t, e.chk)
	for _, s := range servers {
		if on := round.HostsOf(s.ID); len(on) != 1 || on[0] != "h3" {
			t.Fatalf("after killing h3's agent, %s runs on %v", s.ID, on)
		}
	}
	h3.StartAgent()
	e.lab.WaitHealthy(60 * time.Second)

	h3.Partition()
	if _, err := h3.API.WithTimeout(time.Second).Health(context.Background()); err == nil {
		t.Fatal("h3's API answers from the root namespace while partitioned")
	}
	if _, err := h3.InsideHealth(); err != nil {
		t.Fatalf("h3's API from inside while partitioned: %v", err)
	}
	h3.Heal()
	e.lab.WaitHealthy(60 * time.Second)

	h3.PowerOff()
	round = fresh(t, e.chk)
	if s := round.Hosts["h3"]; s.State != lab.HostOff || len(s.Domains) != 0 {
		t.Fatalf("powered-off h3 sampled as %+v", s)
	}
	h3.PowerOn()
	e.lab.WaitHealthy(60 * time.Second)
	round = fresh(t, e.chk)
	if s := round.Hosts["h3"]; s.State != lab.HostOn {
		t.Fatalf("powered-on h3 sampled as %+v", s)
	}
	migrationListeners(t, e) // power-on listens again
	e.remove(ids(servers))
}

// outsidePings pings h1 from the outside every 10 ms for half a second
// (lab.PingEvery, the migrations' downtime probe): every ping answered,
// no gap longer than a few intervals.
func outsidePings(t *testing.T, e *env) {
	t.Helper()
	h1 := e.lab.Host("h1")
	p, err := e.lab.PingEvery(context.Background(), h1.Addr, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	from := time.Now()
	time.Sleep(500 * time.Millisecond)
	to := time.Now()
	replies := p.Stop()
	sent, got, dups, err := p.Stats()
	gap, _ := lab.LongestGap(replies, from, to)
	t.Logf("outside pings of %s: %d sent, %d answered, %d duplicates, %v; longest gap %v", h1.Addr, sent, got, dups, err, gap)
	if got < sent-2 || dups > 0 || gap > 100*time.Millisecond {
		t.Errorf("outside pings of %s: %d sent, %d answered, %d duplicates; longest gap %v", h1.Addr, sent, got, dups, gap)
	}
}

// libvirtMigrates live-migrates a small domain that is not shoal's (its
// name lacks the shoal- prefix: the agents leave it alone) from one host's
// libvirtd to another's as the agents will: peer to peer at the agents'
// migration URI, the memory stream to the destination's lab address.
func libvirtMigrates(t *testing.T, e *env, from, to *lab.Host) {
	t.Helper()
	const name = "labprobe"
	xml := `<domain type='qemu'><name>` + name + `</name><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os><devices></devices></domain>`
	path := filepath.Join(from.Dir, name+".xml") // the host sees the machine's files
	if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	if out, err := e.exec(from, "virsh", "-c", "qemu:///system", "create", path); err != nil {
		t.Fatalf("%s: virsh create: %v\n%s", from.Name, err, out)
	}
	defer e.exec(to, "virsh", "-c", "qemu:///system", "destroy", name)
	defer e.exec(from, "virsh", "-c", "qemu:///system", "destroy", name)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := from.Exec(ctx, "virsh", "-c", "qemu:///system", "migrate", "--live", "--p2p", name,
		fmt.Sprintf(lab.MigrationURI, to.Addr), "tcp://"+to.Addr); err != nil {
		t.Fatalf("%s→%s: virsh migrate: %v\n%s", from.Name, to.Name, err, out)
	}
	out, err := e.exec(to, "virsh", "-c", "qemu:///system", "domstate", name)
	if err != nil || strings.TrimSpace(out) != "running" {
		t.Fatalf("%s after the migration: domstate %q, %v", to.Name, out, err)
	}
	if out, err := e.exec(from, "virsh", "-c", "qemu:///system", "domstate", name); err == nil {
		t.Fatalf("%s still has %s after the migration: %s", from.Name, name, out)
	}
	t.Logf("libvirt live-migrated %s %s→%s over qemu+tcp in %v", name, from.Name, to.Name, time.Since(start).Round(time.Millisecond))
}

// migrationListeners checks that every host's libvirtd answers, from the
// next host, at the agents' migration URI (qemu+tcp, lab.MigrationURI).
func migrationListeners(t *testing.T, e *env) {
	t.Helper()
	for i, to := range e.lab.Hosts {
		from := e.lab.Hosts[(i+1)%len(e.lab.Hosts)]
		uri := fmt.Sprintf(lab.MigrationURI, to.Addr)
		if out, err := e.exec(from, "virsh", "-c", uri, "uri"); err != nil {
			t.Fatalf("from %s, virsh -c %s: %v\n%s", from.Name, uri, err, out)
		}
	}
}

func fresh(t *testing.T, c *lab.Checker) lab.Round {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Fresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// impostors starts, on host, a domain with a server's UUID (a double run),
// then one with the server's MAC under another UUID (its fixed IP held
// twice), each for a second, and expects the checker to report both.
func impostors(t *testing.T, e *env, s lab.Server, host *lab.Host) {
	env, err := os.ReadFile(host.EnvPath())
	if err != nil {
		t.Fatal(err)
	}
	uri := regexp.MustCompile(`(?m)^SHLAB_URI=(.*)$`).FindSubmatch(env)
	if uri == nil {
		t.Fatalf("no SHLAB_URI in %s", host.EnvPath())
	}
	e.chk.TakeViolations()
	for _, tc := range []struct{ id, kind string }{{s.ID, "double-run"}, {uuid.NewString(), "duplicate-ip"}} {
		xml := fmt.Sprintf(`<domain type='qemu'><name>shoal-%s</name><uuid>%s</uuid><memory unit='MiB'>32</memory>
<os><type arch='x86_64'>hvm</type></os><devices><interface type='user'><mac address='%s'/></interface></devices></domain>`,
			tc.id, tc.id, s.Addresses[0].MAC)
		path := filepath.Join(t.TempDir(), "impostor.xml")
		if err := os.WriteFile(path, []byte(xml), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("virsh", "-c", string(uri[1]), "create", path).CombinedOutput(); err != nil {
			t.Fatalf("virsh create: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
		if out, err := exec.Command("virsh", "-c", string(uri[1]), "destroy", "shoal-"+tc.id).CombinedOutput(); err != nil {
			t.Fatalf("virsh destroy: %v\n%s", err, out)
		}
		vs := e.chk.TakeViolations()
		if len(vs) == 0 || vs[0].Kind != tc.kind {
			t.Fatalf("impostor %s on %s: checker reported %v, want %s", tc.id, host.Name, vs, tc.kind)
		}
		t.Logf("impostor %s on %s: %v", tc.id, host.Name, vs)
	}
}
