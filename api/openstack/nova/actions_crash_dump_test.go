package nova_test

import (
	"fmt"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// TestTriggerCrashDump: 2.17's trigger_crash_dump sends the guest an NMI
// through the host's driver (202, no body); below 2.17 it is Nova's 404, a
// locked server, a busy one or one not active, paused or in error Nova's
// 409, a domain the driver does not run Nova's InstanceNotReady.
func TestTriggerCrashDump(t *testing.T) {
	e := newServersEnvUpTo(t)
	const (
		id     = "c1700000-0000-4000-8000-000000000001"
		locked = "c1700000-0000-4000-8000-000000000002"
		ghost  = "c1700000-0000-4000-8000-000000000003"
		body   = `{"trigger_crash_dump": null}`
	)
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, locked, "db", apitest.CirrosID, apitest.NodeName)
	e.SeedServer(t, e.alpha, ghost, "gone", apitest.CirrosID, apitest.NodeName)
	crash := func(id, version string) (int, []byte) {
		return e.call(t, "POST", "/servers/"+id+"/action", body, e.alpha.Token, at(version)...)
	}
	wantFault := func(what string, status int, raw []byte, code int, message string) {
		t.Helper()
		if _, c, msg := fault(t, raw); status != code || c != code || msg != message {
			t.Errorf("%s: %d %s; want %d %q", what, status, raw, code, message)
		}
	}

	status, raw := crash(id, "2.16")
	wantFault("2.16", status, raw, 404, "The resource could not be found.")
	status, raw = e.call(t, "POST", "/servers/"+id+"/action", `{"trigger_crash_dump": {}}`, e.alpha.Token, at("2.17")...)
	wantFault("a value", status, raw, 400, "Invalid input for field/attribute trigger_crash_dump. Value: {}. {} is not of type 'null'")
	if n := e.Consoles.NMIs(id); n != 0 {
		t.Fatalf("%d NMIs after refusals", n)
	}
	if status, raw := crash(id, "2.17"); status != 202 || len(raw) != 0 {
		t.Fatalf("2.17: %d %q; want 202 and no body", status, raw)
	}
	if n := e.Consoles.NMIs(id); n != 1 {
		t.Fatalf("the driver saw %d NMIs, want 1", n)
	}

	// Paused is allowed; pausing (a task) and stopped are not.
	if status, raw := e.call(t, "POST", "/servers/"+id+"/action", `{"pause": null}`, e.alpha.Token); status != 202 {
		t.Fatalf("pause: %d %s", status, raw)
	}
	status, raw = crash(id, "2.17")
	wantFault("pausing", status, raw, 409, "Cannot 'trigger_crash_dump' instance "+id+" while it is in task_state pausing")
	e.complete(t, id, fsm.PowerPaused)
	if status, raw := crash(id, "2.100"); status != 202 {
		t.Fatalf("paused: %d %s", status, raw)
	}
	for _, step := range []struct {
		body  string
		power fsm.PowerState
	}{{`{"unpause": null}`, fsm.PowerRunning}, {`{"os-stop": null}`, fsm.PowerShutdown}} {
		if status, raw := e.call(t, "POST", "/servers/"+id+"/action", step.body, e.alpha.Token); status != 202 {
			t.Fatalf("%s: %d %s", step.body, status, raw)
		}
		e.complete(t, id, step.power)
	}
	status, raw = crash(id, "2.17")
	wantFault("stopped", status, raw, 409, "Cannot 'trigger_crash_dump' instance "+id+" while it is in vm_state stopped")
	if n := e.Consoles.NMIs(id); n != 2 {
		t.Errorf("the driver saw %d NMIs, want 2", n)
	}

	if status, raw := e.call(t, "POST", "/servers/"+locked+"/action", `{"lock": null}`, e.alpha.Token); status != 202 {
		t.Fatalf("lock: %d %s", status, raw)
	}
	status, raw = crash(locked, "2.17")
	wantFault("locked", status, raw, 409, "Instance "+locked+" is locked")

	e.Consoles.NMIErr = fmt.Errorf("%w: domain %s is not running", fsm.ErrConflict, ghost)
	status, raw = crash(ghost, "2.17")
	wantFault("no domain", status, raw, 409, "Instance "+ghost+" is not ready")
	e.Consoles.NMIErr = nil

	status, raw = crash("c1700000-0000-4000-8000-00000000dead", "2.17")
	wantFault("unknown", status, raw, 404, "Instance c1700000-0000-4000-8000-00000000dead could not be found.")
	if n := e.Consoles.NMIs(locked) + e.Consoles.NMIs(ghost); n != 0 {
		t.Errorf("refused servers saw %d NMIs", n)
	}
}
