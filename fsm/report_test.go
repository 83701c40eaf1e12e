package fsm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// A task the host reports done leaves the vm_state Nova defines for it.
func TestReportTaskDone(t *testing.T) {
	for _, tc := range []struct {
		from   startState // the server's state with the task running
		wantVM string
		status string
	}{
		{startState{vm: fsm.VMBuilding, task: fsm.TaskSpawning}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMActive, task: fsm.TaskPoweringOff}, fsm.VMStopped, "SHUTOFF"},
		{startState{vm: fsm.VMError, task: fsm.TaskPoweringOff}, fsm.VMStopped, "SHUTOFF"},
		{startState{vm: fsm.VMStopped, task: fsm.TaskPoweringOn}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMActive, task: fsm.TaskRebooting}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMActive, task: fsm.TaskRebootingHard}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMError, task: fsm.TaskRebootingHard}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMActive, task: fsm.TaskPausing}, fsm.VMPaused, "PAUSED"},
		{startState{vm: fsm.VMPaused, task: fsm.TaskUnpausing}, fsm.VMActive, "ACTIVE"},
		{startState{vm: fsm.VMActive, task: fsm.TaskSuspending}, fsm.VMSuspended, "SUSPENDED"},
		{startState{vm: fsm.VMSuspended, task: fsm.TaskResuming}, fsm.VMActive, "ACTIVE"},
	} {
		t.Run(tc.from.String(), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reachState("x", tc.from)
			w.reach("bystander", fsm.VMActive, fsm.TaskNone) // on h1 too, not in the report
			usage := w.f.Usage()
			before := w.inst("x")
			bystander := w.inst("bystander")
			index := w.next
			w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: powerAfter[tc.from.task], Done: tc.from.task}))

			x := w.inst("x")
			if x.VMState != tc.wantVM || x.TaskState != fsm.TaskNone || x.Status() != tc.status || x.Host != "h1" {
				t.Errorf("after %s done: %s status %s", tc.from.task, describe(x), x.Status())
			}
			if x.PowerState != powerAfter[tc.from.task] || x.Fault != nil || x.Updated != t2 || x.ModifyIndex != index {
				t.Errorf("power %d fault %+v updated %v modify %d", x.PowerState, x.Fault, x.Updated, x.ModifyIndex)
			}
			want := before.Actions[len(before.Actions)-1]
			want.Result, want.Finish = "success", t2
			if a := lastAction(t, x); a != want || len(x.Actions) != len(before.Actions) {
				t.Errorf("last action %+v, want %+v", a, want)
			}
			if !reflect.DeepEqual(w.f.Usage(), usage) {
				t.Errorf("claims changed: %+v → %+v", usage, w.f.Usage())
			}
			if got := w.inst("bystander"); !reflect.DeepEqual(got, bystander) {
				t.Errorf("a server missing from the report changed: %+v", got)
			}
			checkDerived(t, w.f)
		})
	}
}

func TestReportTaskFailed(t *testing.T) {
	for _, tc := range []struct {
		from   startState
		wantVM string
		fault  string
	}{
		{startState{vm: fsm.VMBuilding, task: fsm.TaskSpawning}, fsm.VMError, "Build of instance x aborted: image download failed"},
		{startState{vm: fsm.VMActive, task: fsm.TaskPoweringOff}, fsm.VMActive, "image download failed"},
		{startState{vm: fsm.VMStopped, task: fsm.TaskPoweringOn}, fsm.VMStopped, "image download failed"},
		{startState{vm: fsm.VMActive, task: fsm.TaskRebooting}, fsm.VMActive, "image download failed"},
		{startState{vm: fsm.VMActive, task: fsm.TaskPausing}, fsm.VMActive, "image download failed"},
		{startState{vm: fsm.VMPaused, task: fsm.TaskUnpausing}, fsm.VMPaused, "image download failed"},
		{startState{vm: fsm.VMSuspended, task: fsm.TaskResuming}, fsm.VMSuspended, "image download failed"},
		{startState{vm: fsm.VMError, task: fsm.TaskRebootingHard}, fsm.VMError, "image download failed"},
		{startState{vm: fsm.VMActive, task: fsm.TaskDeleting}, fsm.VMActive, "image download failed"},
	} {
		t.Run(tc.from.String(), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reachState("x", tc.from)
			before := w.inst("x")
			usage := w.f.Usage()
			w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerRunning, Done: tc.from.task, Error: "image download failed"}))

			x := w.inst("x")
			if x.VMState != tc.wantVM || x.TaskState != fsm.TaskNone || x.Host != "h1" || x.PowerState != fsm.PowerRunning {
				t.Errorf("after %s failed: %s", tc.from.task, describe(x))
			}
			if want := (&fsm.Fault{Code: 500, Message: tc.fault, Created: t2}); !reflect.DeepEqual(x.Fault, want) {
				t.Errorf("fault %+v, want %+v", x.Fault, want)
			}
			want := before.Actions[len(before.Actions)-1]
			want.Result, want.Message, want.Finish = "error", "image download failed", t2
			if a := lastAction(t, x); a != want {
				t.Errorf("last action %+v, want %+v", a, want)
			}
			// The server keeps its claim and its address until it is deleted.
			if !reflect.DeepEqual(w.f.Usage(), usage) || w.ip("x") != before.Addresses[0].IP {
				t.Errorf("claims %+v → %+v", usage, w.f.Usage())
			}
			// A later success clears the fault.
			if tc.wantVM != fsm.VMError {
				w.must(hardReboot("x"))
				w.finish("x")
				if x := w.inst("x"); x.Fault != nil || x.VMState != fsm.VMActive {
					t.Errorf("after a successful reboot: %s fault %+v", describe(x), x.Fault)
				}
			}
			checkDerived(t, w.f)
		})
	}
}

// Deletion done: the server is gone with its claim, IP, MAC and group membership.
func TestReportDeleted(t *testing.T) {
	for _, from := range startStates {
		if from.task != fsm.TaskNone || from.noHost {
			continue // deletion starts from an idle server on a host here
		}
		t.Run(from.String(), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reachState("x", from)
			w.reachState("y", from) // stays on h1
			w.must(actionCmd("x", fsm.ActionDelete))
			x := w.inst("x")
			ip, mac := x.Addresses[0].IP, x.Addresses[0].MAC

			w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", Done: fsm.TaskDeleting}))
			w.gone("x")
			if owner, ok := stateOf(t, w.f).Network.Allocated[ip]; ok {
				t.Errorf("IP %s still allocated to %s", ip, owner)
			}
			if u := w.f.Usage()["h1"]; u.Instances != 1 {
				t.Errorf("Usage()[h1] = %+v, want y's claim only", u)
			}
			checkDerived(t, w.f)

			// The IP and the MAC are free for the next server.
			w.create("x")
			if got := w.inst("x"); got.Addresses[0].IP != ip || got.Addresses[0].MAC != mac {
				t.Errorf("recreated x got %+v, want %s %s", got.Addresses, ip, mac)
			}
			checkDerived(t, w.f)
		})
	}
}

func TestReportDeletedLeavesGroup(t *testing.T) {
	w := newWorld(t, testCIDR)
	createGroup(w, fsm.PolicyAntiAffinity, "a", "b", "c")
	w.place("a", "h1")
	w.place("b", "h2")
	w.finish("a")
	w.act("a", fsm.ActionDelete)
	w.act("c", fsm.ActionDelete) // pending: gone at once, and from the group
	if g := w.group("g"); !reflect.DeepEqual(g.Members, []string{"a", "b"}) {
		t.Errorf("members %v, want [a b]", g.Members)
	}
	w.finish("a")
	if g := w.group("g"); !reflect.DeepEqual(g.Members, []string{"b"}) {
		t.Errorf("members %v, want [b]", g.Members)
	}
	if gp := w.f.SchedulingView(0).Groups; len(gp) != 0 {
		t.Errorf("no pending server, but groups %+v in the view", gp)
	}
	createInGroup(w, "g", "d")
	if gp := w.f.SchedulingView(0).Groups["g"]; !reflect.DeepEqual(gp, fsm.GroupPlacement{Policy: fsm.PolicyAntiAffinity, Hosts: map[string]int{"h2": 1}, PerHost: 1}) {
		t.Errorf("group placement %+v, want b on h2 only", gp)
	}
	w.place("d", "h1") // a's slot is free
	checkDerived(t, w.f)
}

// Reports that do not match what the FSM expects change nothing but the
// power state (and only for a server on the reporting host).
func TestReportIgnored(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMActive, fsm.TaskPoweringOff) // on h1
	w.create("pending")

	for _, tc := range []struct {
		name string
		rep  *fsm.ReportInstances
	}{
		{"wrong host", reportCmd("h2", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerShutdown, Done: fsm.TaskPoweringOff})},
		{"wrong host deleting", reportCmd("h2", fsm.InstanceReport{ID: "x", Done: fsm.TaskDeleting})},
		{"unknown host", reportCmd("h9", fsm.InstanceReport{ID: "x", Done: fsm.TaskPoweringOff})},
		{"unknown server", reportCmd("h1", fsm.InstanceReport{ID: "nope", Done: fsm.TaskPoweringOff})},
		{"pending server", reportCmd("h1", fsm.InstanceReport{ID: "pending", Done: fsm.TaskSpawning})},
		{"no reports", reportCmd("h1")},
	} {
		t.Run(tc.name, func(t *testing.T) { w.noop(tc.rep) })
	}
	w.refuse(reportCmd("", fsm.InstanceReport{ID: "x", Done: fsm.TaskPoweringOff}), fsm.ErrInvalid)

	// Stale: the task the host finished is not the one running now.
	for _, tc := range []struct {
		name string
		done string
	}{
		{"other task", fsm.TaskPausing},
		{"deleting while powering off", fsm.TaskDeleting},
		{"spawning again", fsm.TaskSpawning},
	} {
		t.Run("stale "+tc.name, func(t *testing.T) {
			before := w.inst("x")
			w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerPaused, Done: tc.done}))
			x := w.inst("x")
			if x.VMState != before.VMState || x.TaskState != before.TaskState || !reflect.DeepEqual(x.Actions, before.Actions) || x.Fault != nil {
				t.Errorf("stale report changed the server: %s", describe(x))
			}
			if x.PowerState != fsm.PowerPaused {
				t.Errorf("power state %d, want the observed %d", x.PowerState, fsm.PowerPaused)
			}
		})
	}
	checkDerived(t, w.f)
}

// A reset-state between the task and its report makes the report stale.
func TestReportStaleAfterResetState(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMActive, fsm.TaskPoweringOff)
	w.must(resetState("x", "active"))
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerShutdown, Done: fsm.TaskPoweringOff}))
	if x := w.inst("x"); x.VMState != fsm.VMActive || x.TaskState != fsm.TaskNone {
		t.Errorf("stale done applied: %s", describe(x))
	}

	w.reach("y", fsm.VMBuilding, fsm.TaskSpawning)
	w.must(resetState("y", "error"))
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "y", PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning}))
	if y := w.inst("y"); y.VMState != fsm.VMError {
		t.Errorf("stale spawn done applied: %s", describe(y))
	}

	w.reach("z", fsm.VMActive, fsm.TaskDeleting)
	w.must(resetState("z", "error"))
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "z", Done: fsm.TaskDeleting}))
	if z := w.inst("z"); z.VMState != fsm.VMError {
		t.Errorf("stale delete done applied: %s", describe(z))
	}
	checkDerived(t, w.f)
}

// A guest that shut down (or crashed) on its own while ACTIVE and idle is
// SHUTOFF, as Nova's power-state sync decides; otherwise the power state is
// only recorded. (Nova's sync also force-stops a PAUSED or STOPPED server
// whose power state disagrees; shoal does not, and that is not pinned here.)
func TestReportGuestShutdown(t *testing.T) {
	for _, tc := range []struct {
		from   startState
		power  fsm.PowerState
		wantVM string
	}{
		{startState{vm: fsm.VMActive}, fsm.PowerShutdown, fsm.VMStopped},
		{startState{vm: fsm.VMActive}, fsm.PowerCrashed, fsm.VMStopped},
		{startState{vm: fsm.VMActive}, fsm.PowerRunning, fsm.VMActive},
		{startState{vm: fsm.VMActive}, fsm.PowerPaused, fsm.VMActive},
		{startState{vm: fsm.VMActive}, fsm.PowerNoState, fsm.VMActive},
		{startState{vm: fsm.VMActive, task: fsm.TaskRebooting}, fsm.PowerShutdown, fsm.VMActive},
		{startState{vm: fsm.VMError}, fsm.PowerShutdown, fsm.VMError},
		{startState{vm: fsm.VMStopped}, fsm.PowerShutdown, fsm.VMStopped},
		{startState{vm: fsm.VMBuilding, task: fsm.TaskSpawning}, fsm.PowerShutdown, fsm.VMBuilding},
	} {
		t.Run(tc.from.String()+"/"+map[fsm.PowerState]string{0: "nostate", 1: "running", 3: "paused", 4: "shutdown", 6: "crashed"}[tc.power], func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reachState("x", tc.from)
			before := w.inst("x")
			w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: tc.power}))
			x := w.inst("x")
			if x.VMState != tc.wantVM || x.TaskState != before.TaskState || x.PowerState != tc.power {
				t.Errorf("after power %d: %s power %d", tc.power, describe(x), x.PowerState)
			}
			if tc.wantVM != before.VMState {
				a := lastAction(t, x)
				if a.Action != "stop (guest shut down)" || a.Result != "success" || a.Start != t2 || a.Finish != t2 {
					t.Errorf("action %+v, want a finished guest shutdown", a)
				}
				if x.Status() != "SHUTOFF" {
					t.Errorf("Status %s", x.Status())
				}
				// It can be started again.
				w.act("x", fsm.ActionStart)
				w.finish("x")
				if x := w.inst("x"); x.VMState != fsm.VMActive {
					t.Errorf("after start: %s", describe(x))
				}
			} else if !reflect.DeepEqual(x.Actions, before.Actions) {
				t.Errorf("actions changed: %+v", x.Actions)
			}
			checkDerived(t, w.f)
		})
	}
}

// One report carries many servers; each is handled on its own.
func TestReportMany(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("a", fsm.VMBuilding, fsm.TaskSpawning)
	w.reach("b", fsm.VMActive, fsm.TaskPausing)
	w.reach("c", fsm.VMActive, fsm.TaskDeleting)
	w.reach("d", fsm.VMActive, fsm.TaskNone)
	w.must(reportCmd("h1",
		fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning},
		fsm.InstanceReport{ID: "b", PowerState: fsm.PowerRunning, Done: fsm.TaskPausing, Error: "libvirt said no"},
		fsm.InstanceReport{ID: "c", Done: fsm.TaskDeleting},
		fsm.InstanceReport{ID: "d", PowerState: fsm.PowerShutdown},
		fsm.InstanceReport{ID: "c", Done: fsm.TaskDeleting}, // again: c is gone
	))
	got := map[string]string{}
	for _, i := range w.f.Instances(nil) {
		got[i.ID] = i.Status()
	}
	if want := map[string]string{"a": "ACTIVE", "b": "ACTIVE", "d": "SHUTOFF"}; !reflect.DeepEqual(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if b := w.inst("b"); b.Fault == nil || !strings.Contains(b.Fault.Message, "libvirt said no") {
		t.Errorf("b fault %+v", b.Fault)
	}
	checkDerived(t, w.f)
}

// A Done answers the task that was running when the host took it on: a late
// or repeated report must not complete a newer task of the same name.
func TestReportOfAnOlderTaskIgnored(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMActive, fsm.TaskRebooting)
	first := w.inst("x").TaskIndex
	w.finish("x")
	w.must(&fsm.InstanceAction{ID: "x", Action: fsm.ActionReboot, RequestID: "req-2", Time: t2})
	second := w.inst("x").TaskIndex
	if second == first {
		t.Fatalf("a new task kept the old task index %d", first)
	}
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerRunning, Done: fsm.TaskRebooting, TaskIndex: first}))
	if x := w.inst("x"); x.TaskState != fsm.TaskRebooting || x.TaskIndex != second {
		t.Fatalf("the first reboot's report completed the second: %s", describe(x))
	}
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "x", PowerState: fsm.PowerRunning, Done: fsm.TaskRebooting, TaskIndex: second}))
	if x := w.inst("x"); x.TaskState != fsm.TaskNone || x.VMState != fsm.VMActive || x.TaskIndex != 0 {
		t.Fatalf("the second reboot's report: %s", describe(x))
	}
}
