//go:build e2e

package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// Failover through the binary and the CLI, with the fake driver (the lab
// tests do it with real libvirt): a killed host's servers come back ACTIVE
// elsewhere with their IPs, an HA-none server waits in ERROR for `server
// evacuate`, the host list says down, the action log has the failover time,
// and force-down drains a live host.
func TestFailoverCLI(t *testing.T) {
	fast := append([]string{"--lease", "2s", "--lease-margin", "1s"}, fakeCapacity...)
	n1, n2, n3 := newAgent(t, "n1"), newAgent(t, "n2"), newAgent(t, "n3")
	n1.start(t, append([]string{"--bootstrap"}, fast...)...)
	n2.start(t, append([]string{"--join", n1.gossipAddr()}, fast...)...)
	n3.start(t, append([]string{"--join", n1.gossipAddr()}, fast...)...)
	for _, a := range []*agent{n1, n2, n3} {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name, func() bool { return healthy(members(t, a)) })
	}
	mustRun(t, n1, "image", "create", "tiny", "--disk-format", "qcow2", "--file", writeFile(t, "tiny.qcow2", qcow2Image(64<<10, false)))
	var moved []server
	for _, name := range []string{"web-1", "web-2"} {
		moved = append(moved, create(t, n1, name, "--flavor", "m1.tiny", "--availability-zone", "nova:n3"))
	}
	pinned := create(t, n1, "db", "--flavor", "m1.tiny", "--availability-zone", "nova:n3", "--ha", "none")
	for _, s := range append(moved, pinned) {
		if got := waitStatus(t, n1, s.ID, "ACTIVE"); got.Host != "n3" {
			t.Fatalf("%s on %s, want n3", s.Name, got.Host)
		}
	}

	n3.kill()
	for _, s := range moved {
		var got server
		testkit.WaitEvery(t, cliPoll, 60*time.Second, s.Name+" ACTIVE off n3", func() bool {
			got, _ = show(t, n1, s.ID)
			return got.Status == "ACTIVE" && got.Host != "n3" && got.Host != ""
		})
		if got.ip() != s.ip() || got.Addresses[0].MAC != s.Addresses[0].MAC {
			t.Fatalf("%s moved with %+v, want %+v", s.Name, got.Addresses, s.Addresses)
		}
		if out := mustRun(t, n1, "server", "actions", s.ID); !strings.Contains(out, "evacuate") || !strings.Contains(out, "failover took") {
			t.Fatalf("action log of %s:\n%s", s.Name, out)
		}
	}
	if got := waitStatus(t, n1, pinned.ID, "ERROR"); got.Host != "n3" {
		t.Fatalf("ha=none server is on %q, want n3", got.Host)
	}
	if state := hostState(t, n1, "n3"); state != "down" {
		t.Fatalf("n3 is %s in host list, want down", state)
	}
	mustRun(t, n1, "server", "evacuate", pinned.ID, "--target", "n1")
	if got := waitStatus(t, n1, pinned.ID, "ACTIVE"); got.Host != "n1" || got.ip() != pinned.ip() {
		t.Fatalf("evacuated ha=none server: %+v", got)
	}

	// n3 comes back: up again, and it runs none of the servers that moved.
	n3.start(t, fast...)
	testkit.WaitEvery(t, cliPoll, 60*time.Second, "n3 up again", func() bool { return hostState(t, n1, "n3") == "up" })
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "n3's copies of moved servers removed", func() bool { return len(fakeDomains(t, n3)) == 0 })

	// Force-down drains a live host: no lease, fenced, its servers evacuated.
	onN2 := create(t, n1, "cache", "--flavor", "m1.tiny", "--availability-zone", "nova:n2")
	waitStatus(t, n1, onN2.ID, "ACTIVE")
	if _, err := run(t, n1, "server", "evacuate", onN2.ID); err == nil {
		t.Fatal("evacuating a server of a live host was accepted")
	}
	mustRun(t, n1, "host", "force-down", "n2")
	testkit.WaitEvery(t, cliPoll, 60*time.Second, "cache off n2", func() bool {
		got, _ := show(t, n1, onN2.ID)
		return got.Status == "ACTIVE" && got.Host != "n2" && got.Host != ""
	})
	if !memberFenced(t, n2, "n2") {
		t.Fatal("n2 is forced down but does not say it is fenced")
	}
	mustRun(t, n1, "host", "force-down", "n2", "--unset")
	testkit.WaitEvery(t, cliPoll, 60*time.Second, "n2 up again", func() bool { return hostState(t, n1, "n2") == "up" && !memberFenced(t, n2, "n2") })
}

func hostState(t *testing.T, a *agent, name string) string {
	t.Helper()
	var list struct {
		Hosts []struct {
			Name  string `json:"name"`
			State string `json:"state"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, a, "host", "list", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, h := range list.Hosts {
		if h.Name == name {
			return h.State
		}
	}
	return ""
}

func memberFenced(t *testing.T, a *agent, name string) bool {
	t.Helper()
	for _, m := range members(t, a) {
		if m.Name == name {
			return m.Fenced
		}
	}
	return false
}
