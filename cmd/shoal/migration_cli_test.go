package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// fakeMovers plays the scheduler and the hosts for server id while the
// test runs: a migration waiting for a destination is placed on the host
// the server is not on, and every moving step is reported done by the
// host the server is on (failing it when fail is set), as in the table of
// issue 15's design.
func fakeMovers(t *testing.T, n *oneNode, id string, fail *atomic.Bool) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			inst, err := n.FSM.Instance(id)
			if err != nil || inst.TaskState == "" || inst.Host == "" {
				continue
			}
			if inst.MigrationPending {
				other := "n2"
				if inst.Host == "n2" {
					other = "n1"
				}
				_, _ = n.Apply(ctx, &fsm.Plan{Time: time.Now().UTC(), Ratios: fsm.DefaultRatios, MaxAttempts: 3,
					Placements: []fsm.Placement{{InstanceID: id, Host: other}}})
				continue
			}
			r := fsm.InstanceReport{ID: id, PowerState: fsm.PowerRunning, Done: inst.TaskState, TaskIndex: inst.TaskIndex}
			if fail.Load() {
				r.Error = "libvirt: the destination refused the domain"
			}
			_, _ = n.Apply(ctx, &fsm.ReportInstances{Host: inst.Host, Time: time.Now().UTC(), Reports: []fsm.InstanceReport{r}})
		}
	}()
}

// TestMigrationCommands drives server migrate, resize (confirm, revert)
// and migration list against the real API, with the hosts played by
// fakeMovers.
func TestMigrationCommands(t *testing.T) {
	shortWait(t)
	n, h := newOneNode(t)
	n.MustApply(t, &fsm.RegisterHost{Name: "n2", HTTPAddress: "127.0.0.2:8774"},
		&fsm.UpdateHostInventory{Name: "n2", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 40, HypervisorType: "QEMU"}})
	run := func(args string) string {
		t.Helper()
		out, _, err := runCLI(t, h, args)
		if err != nil {
			t.Fatalf("shoal %s: %v", args, err)
		}
		return out
	}
	run("image create cirros --file " + writeFile(t, "cirros.raw", make([]byte, 1024)) + " --disk-format raw")
	out := run("server create web --flavor m1.tiny --image cirros -o json")
	var created api.ServerResponse
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	id := created.Server.ID
	n.MustApply(t, &fsm.Plan{Time: time.Now(), Ratios: fsm.DefaultRatios, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: id, Host: "n1"}}})
	placed, _ := n.FSM.Instance(id)
	n.MustApply(t, &fsm.ReportInstances{Host: "n1", Reports: []fsm.InstanceReport{{ID: id, PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning, TaskIndex: placed.TaskIndex}}})

	if out := run("migration list"); strings.TrimSpace(out) != "ID  TYPE  STATUS  SERVER  SOURCE  DEST  OLD FLAVOR  NEW FLAVOR  CREATED" {
		t.Errorf("an empty migration list printed %q", out)
	}
	// Without --wait: the request and the state it left.
	if out := run("server migrate web --live --host n2"); out != "web: live-migrate requested; now MIGRATING (migrating)\n" {
		t.Errorf("server migrate --live printed %q", out)
	}
	if _, _, err := runCLI(t, h, "server migrate web --live"); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("a second migration while one runs: %v", err)
	}
	var fail atomic.Bool
	fakeMovers(t, n, id, &fail)
	waitFor(t, func() bool { inst, _ := n.FSM.Instance(id); return inst.Host == "n2" && inst.TaskState == "" })

	// --wait follows the move to its end: VERIFY_RESIZE for a resize.
	out = run("server resize web --flavor m1.small --wait")
	if !strings.Contains(out, "web: VERIFY_RESIZE on n1") || !strings.HasSuffix(out, "migration 2 (resize): finished, n2 -> n1\n") {
		t.Errorf("server resize --wait printed\n%s", out)
	}
	if out := run("server resize confirm web"); out != "web: confirm-resize requested; now ACTIVE\n" {
		t.Errorf("server resize confirm printed %q", out)
	}
	out = run("server migrate web --wait")
	if !strings.HasSuffix(out, "migration 3 (migration): finished, n1 -> n2\n") {
		t.Errorf("server migrate --wait printed\n%s", out)
	}
	out = run("server resize revert web --wait -o json")
	var end api.MigrationResponse
	if err := json.Unmarshal([]byte(out), &end); err != nil || end.Migration.Status != fsm.MigrationReverted {
		t.Errorf("server resize revert --wait -o json printed %v\n%s", err, out)
	}

	// A move that fails exits non-zero, naming why.
	fail.Store(true)
	_, _, err := runCLI(t, h, "server migrate web --live --host n2 --wait")
	if !errors.Is(err, errMoveFailed) || !strings.Contains(err.Error(), "destination refused") {
		t.Errorf("a failed live migration: %v", err)
	}
	fail.Store(false)

	out = run("migration list --server web --host n2")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[1], "4   live-migration  failed") ||
		!strings.Contains(lines[2], "migration       reverted") || !strings.Contains(lines[3], "m1.tiny     m1.small") {
		t.Errorf("migration list printed\n%s", out)
	}
	if out := run("migration list --status completed -o json"); !strings.Contains(out, `"migration_type": "live-migration"`) {
		t.Errorf("migration list --status -o json printed\n%s", out)
	}
	if _, _, err := runCLI(t, h, "server resize web"); err == nil || !strings.Contains(err.Error(), "flavor") {
		t.Errorf("resize without --flavor: %v", err)
	}
}

// waitFor polls cond for up to five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
