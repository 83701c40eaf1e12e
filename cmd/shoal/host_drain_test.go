package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// drainNode is oneNode with a second host, n2, and server s-1 running on
// n1; polls counts the reads of drains it served.
func drainNode(t *testing.T) (n *oneNode, polls *atomic.Int64, run func(args string) (string, string, error)) {
	t.Helper()
	n, inner := newOneNode(t)
	polls = new(atomic.Int64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/drain") {
			polls.Add(1)
		}
	})
	now := time.Now().UTC()
	n.MustApply(t, &fsm.RegisterHost{Name: "n2", HTTPAddress: "127.0.0.2:8774"},
		&fsm.UpdateHostInventory{Name: "n2", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 40}},
		&fsm.CreateImage{Image: fsm.Image{ID: "img", Name: "cirros", DiskFormat: "raw", ContainerFormat: "bare", Size: 1024,
			Checksum: fmt.Sprintf("%064x", 1), Status: fsm.ImageActive, Visibility: fsm.ImagePublic, Created: now, Updated: now}},
		&fsm.CreateInstances{RequestID: "req-1", Time: now, Instances: []fsm.NewInstance{{ID: "s-1", Name: "web", FlavorID: "1", ImageID: "img"}}},
		&fsm.Plan{Time: now, Ratios: fsm.DefaultRatios, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: "s-1", Host: "n1"}}})
	n.report(t, "n1", "s-1", fsm.PowerRunning)
	return n, polls, func(args string) (string, string, error) {
		t.Helper()
		return runCLI(t, h, args)
	}
}

// report has host answer s's current task, done.
func (n *oneNode) report(t *testing.T, host, id string, power fsm.PowerState) {
	t.Helper()
	i, _ := n.FSM.Instance(id)
	n.MustApply(t, &fsm.ReportInstances{Host: host, Time: time.Now().UTC(), Reports: []fsm.InstanceReport{
		{ID: id, PowerState: power, Done: i.TaskState, TaskIndex: i.TaskIndex}}})
}

// leadDrain plays the leader's drain loop once n1 drains: moves s-1 to n2
// live, then records the drain done, each step once the CLI has polled
// twice since the last. It returns when it has.
func leadDrain(t *testing.T, n *oneNode, polls *atomic.Int64) <-chan struct{} {
	done := make(chan struct{})
	seen := func() {
		for start := polls.Load(); polls.Load() < start+2; {
			time.Sleep(time.Millisecond)
		}
	}
	go func() {
		defer close(done)
		for h, _ := n.FSM.Host("n1"); !h.Draining; h, _ = n.FSM.Host("n1") {
			time.Sleep(time.Millisecond)
		}
		apply := func(cmds ...fsm.Command) {
			for _, c := range cmds {
				if _, err := n.Apply(context.Background(), c); err != nil {
					t.Errorf("the leader's %s: %v", c.Type(), err)
				}
			}
		}
		now := time.Now().UTC()
		seen()
		apply(&fsm.MigrateInstance{ID: "s-1", Kind: fsm.MigrationLive, MigrationUUID: "m-1", RequestID: "req-m",
			Admin: true, Time: now},
			&fsm.Plan{Time: now, Ratios: fsm.DefaultRatios, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: "s-1", Host: "n2"}}})
		seen()
		i, _ := n.FSM.Instance("s-1")
		apply(&fsm.ReportInstances{Host: "n1", Time: now, Reports: []fsm.InstanceReport{
			{ID: "s-1", PowerState: fsm.PowerRunning, Done: i.TaskState, TaskIndex: i.TaskIndex}}},
			&fsm.DrainHost{Name: "n1", Result: fsm.DrainDone, Time: now})
	}()
	return done
}

func TestHostDrainCommand(t *testing.T) {
	shortWait(t)
	n, polls, run := drainNode(t)

	out, _, err := run("host drain n1 --status")
	if err != nil || out != "n1: idle: 0 of 0 moved, 0 moving, 0 failed\n" {
		t.Fatalf("drain --status before any drain: %v %q", err, out)
	}
	moved := leadDrain(t, n, polls)
	out, _, err = run("host drain n1 --wait")
	<-moved
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if err != nil || lines[0] != "n1: draining: 0 of 1 moved, 0 moving, 0 failed" ||
		lines[len(lines)-1] != "n1: done: 1 of 1 moved, 0 moving, 0 failed" {
		t.Fatalf("drain --wait: %v\n%s", err, out)
	}
	if !strings.Contains(out, "n1: draining: 0 of 1 moved, 1 moving (s-1), 0 failed\n") {
		t.Errorf("drain --wait never showed the move under way:\n%s", out)
	}
	if i, _ := n.FSM.Instance("s-1"); i.Host != "n2" {
		t.Errorf("s-1 on %s after the drain", i.Host)
	}

	// A drain of n2 left with a server in ERROR: it fails, and says what it left.
	if out, _, err = run("host drain n2 -o json"); err != nil {
		t.Fatalf("drain n2: %v", err)
	}
	var started api.HostDrainResponse
	if err := json.Unmarshal([]byte(out), &started); err != nil || started.Drain.State != fsm.DrainDraining || started.Drain.Total != 1 {
		t.Fatalf("drain -o json: %v\n%s", err, out)
	}
	if _, _, err = run("host drain n2"); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("drain again: %v, want a conflict", err)
	}
	n.MustApply(t, &fsm.InstanceAction{ID: "s-1", Action: fsm.ActionResetState, State: "error", Admin: true,
		RequestID: "req-reset", Time: time.Now().UTC()},
		&fsm.DrainHost{Name: "n2", Result: fsm.DrainFailed, Time: time.Now().UTC()})
	out, stderr, err := run("host drain n2 --status --wait -o json")
	if !errors.Is(err, errDrainFailed) || !strings.Contains(err.Error(), "s-1: the server is in ERROR") {
		t.Errorf("--wait on a failed drain: %v", err)
	}
	var ended api.HostDrainResponse
	if jerr := json.Unmarshal([]byte(out), &ended); jerr != nil || ended.Drain.State != fsm.DrainFailed || len(ended.Drain.Failed) != 1 ||
		!strings.Contains(stderr, "n2: failed: 0 of 1 moved") {
		t.Errorf("--wait -o json on a failed drain: %v\nstdout %s\nstderr %s", jerr, out, stderr)
	}

	// Cancel.
	if _, _, err = run("host drain n1 --cancel"); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("cancel what does not drain: %v", err)
	}
	run("host drain n1")
	if out, _, err = run("host drain n1 --cancel"); err != nil || !strings.HasPrefix(out, "n1: idle: ") {
		t.Errorf("cancel: %v %q", err, out)
	}
	if _, _, err = run("host drain n1 --cancel --wait"); err == nil || !strings.Contains(err.Error(), "--cancel goes alone") {
		t.Errorf("cancel --wait: %v", err)
	}
	if _, _, err = run("host drain n1 --status --wait"); err == nil || !strings.Contains(err.Error(), "no drain runs on n1") {
		t.Errorf("--status --wait with no drain: %v", err)
	}
}

func TestDrainBar(t *testing.T) {
	var b strings.Builder
	show := barProgress(&b)
	p := fsm.DrainProgress{Host: "n1", State: fsm.DrainDraining, Total: 4, InProgress: []string{"a", "b"}}
	show(p, false)
	show(p, false) // nothing changed: nothing drawn
	p.Moved, p.InProgress, p.State = 4, nil, fsm.DrainDone
	show(p, true)
	want := "\rn1 [....................] 0/4 moved, 2 moving, 0 failed" +
		"\rn1 [####################] 4/4 moved, 0 moving, 0 failed (done)\n"
	if b.String() != want {
		t.Errorf("bar drew %q, want %q", b.String(), want)
	}
}
