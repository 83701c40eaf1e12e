package fsm_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestCreateInstances(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g1", Name: "web", Policy: fsm.PolicyAntiAffinity, Created: t0}})
	cmd := &fsm.CreateInstances{RequestID: "req-1", Time: t1, Instances: []fsm.NewInstance{
		{ID: "a", Name: "web-1", FlavorID: "2", ImageID: testImage, AvailabilityZone: "nova",
			ForceHost: "h2", ServerGroupID: "g1", Metadata: map[string]string{"role": "web"}},
		{ID: "b", Name: "web-2", FlavorID: "m1.small-is-a-name-not-an-id", ImageID: testImage},
	}}
	w.refuse(cmd, fsm.ErrNotFound) // flavors are referenced by ID
	cmd.Instances[1].FlavorID = "3"
	cmd.Instances[1].ServerGroupID = "g1"
	index := w.next
	w.must(cmd)

	want := fsm.Instance{
		ID: "a", Name: "web-1", ImageID: testImage,
		Flavor:  fsm.FlavorSpec{ID: "2", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20},
		VMState: fsm.VMBuilding, TaskState: fsm.TaskScheduling, PowerState: fsm.PowerNoState,
		Addresses:        []fsm.Address{{Network: "default", IP: "10.20.0.2", MAC: expectedMAC("a", 0)}},
		Metadata:         map[string]string{"role": "web"},
		AvailabilityZone: "nova", ServerGroupID: "g1", ForceHost: "h2",
		SecurityGroups: []string{fsm.DefaultSecurityGroupID("")},
		Created:        t1, Updated: t1,
		Actions:   []fsm.Action{{RequestID: "req-1", Action: "create", Start: t1}},
		Indexes:   fsm.Indexes{CreateIndex: index, ModifyIndex: index},
		TaskIndex: index,
	}
	if got := w.inst("a"); !reflect.DeepEqual(got, want) {
		t.Errorf("Instance(a) =\n%+v\nwant\n%+v", got, want)
	}
	b := w.inst("b")
	if b.Flavor.Name != "m1.medium" || b.Addresses[0].IP != "10.20.0.3" {
		t.Errorf("Instance(b) = %+v", b)
	}
	for _, id := range []string{"a", "b"} {
		i := w.inst(id)
		if i.Status() != "BUILD" || !i.Pending() {
			t.Errorf("%s: Status %s Pending %v, want BUILD and pending", id, i.Status(), i.Pending())
		}
	}
	if got := w.group("g1"); !slices.Equal(got.Members, []string{"a", "b"}) || got.ModifyIndex != index {
		t.Errorf("group g1 = %+v, want members [a b] modified at %d", got, index)
	}
	if u := w.f.Usage(); len(u) != 0 {
		t.Errorf("Usage() = %+v, want no claims before placement", u)
	}

	v := w.f.SchedulingView(0)
	if got := ids(v.Pending); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("SchedulingView.Pending = %v, want [a b]", got)
	}
	if img, ok := v.Images[testImage]; !ok || img.ID != testImage || len(v.Images) != 1 {
		t.Errorf("SchedulingView.Images = %+v, want only %s", v.Images, testImage)
	}
	if g := v.Groups["g1"]; g.Policy != fsm.PolicyAntiAffinity || len(g.Hosts) != 0 {
		t.Errorf("SchedulingView.Groups[g1] = %+v", g)
	}
	if got := ids(w.f.SchedulingView(1).Pending); !slices.Equal(got, []string{"a"}) {
		t.Errorf("SchedulingView(1).Pending = %v, want the oldest only", got)
	}
	if len(v.Hosts) != 3 || v.Index != index {
		t.Errorf("SchedulingView hosts %d index %d, want 3 and %d", len(v.Hosts), v.Index, index)
	}

	// Readers get copies.
	got := w.inst("a")
	got.Metadata["role"] = "changed"
	got.Addresses[0].IP = "1.2.3.4"
	got.Actions[0].Action = "changed"
	got.SecurityGroups[0] = "changed"
	if again := w.inst("a"); !reflect.DeepEqual(again, want) {
		t.Errorf("a reader's change leaked into the state: %+v", again)
	}
	checkDerived(t, w.f)
}

func TestCreateInstancesRefused(t *testing.T) {
	for _, tc := range []struct {
		name    string
		setup   func(w *world)
		servers []fsm.NewInstance
		want    error
		msg     string
	}{
		{"no servers", nil, nil, fsm.ErrInvalid, "no servers"},
		{"unknown flavor", nil, []fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "99", ImageID: testImage}}, fsm.ErrNotFound, `flavor "99"`},
		{"unknown image", nil, []fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "1", ImageID: "nope"}}, fsm.ErrNotFound, `image "nope"`},
		{"unknown group", nil, []fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "1", ImageID: testImage, ServerGroupID: "g9"}}, fsm.ErrNotFound, `server group "g9"`},
		{
			"queued image",
			func(w *world) {
				img := activeImage("img-q")
				img.Status = "queued"
				w.must(&fsm.CreateImage{Image: img})
			},
			[]fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "1", ImageID: "img-q"}}, fsm.ErrConflict, "queued, not active",
		},
		{"empty name", nil, []fsm.NewInstance{{ID: "a", FlavorID: "1", ImageID: testImage}}, fsm.ErrInvalid, "name is empty"},
		{"empty ID", nil, []fsm.NewInstance{{Name: "a", FlavorID: "1", ImageID: testImage}}, fsm.ErrInvalid, "ID is empty"},
		{"existing ID", func(w *world) { w.create("a") }, []fsm.NewInstance{server("a")}, fsm.ErrConflict, "already exists"},
		{"existing ID placed", func(w *world) { w.create("a"); w.place("a", "h1") }, []fsm.NewInstance{server("b"), server("a")}, fsm.ErrConflict, "already exists"},
		{"ID twice in one request", nil, []fsm.NewInstance{server("a"), server("b"), server("a")}, fsm.ErrInvalid, "given twice"},
		{"flavor deleted", func(w *world) { w.must(&fsm.DeleteFlavor{ID: "1"}) }, []fsm.NewInstance{server("a")}, fsm.ErrNotFound, `flavor "1"`},
		{"image deleted", func(w *world) { w.must(&fsm.DeleteImage{ID: testImage}) }, []fsm.NewInstance{server("a")}, fsm.ErrNotFound, "image"},
		{
			"group deleted",
			func(w *world) {
				w.must(&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g1", Name: "g", Policy: fsm.PolicyAffinity}},
					&fsm.DeleteServerGroup{ID: "g1"})
			},
			[]fsm.NewInstance{{ID: "a", Name: "a", FlavorID: "1", ImageID: testImage, ServerGroupID: "g1"}}, fsm.ErrNotFound, "server group",
		},
		// All or none: one bad server refuses the good ones before it.
		{"last of three bad", nil, []fsm.NewInstance{server("a"), server("b"), {ID: "c", Name: "c", FlavorID: "1", ImageID: "nope"}}, fsm.ErrNotFound, "image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			if tc.setup != nil {
				tc.setup(w)
			}
			c := &fsm.CreateInstances{RequestID: "r", Time: t1, Instances: tc.servers}
			err := w.refuse(c, tc.want)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
			checkDerived(t, w.f)
		})
	}
}

// The instance keeps the flavor as it was: deleting or replacing the flavor
// changes neither the server's spec nor its claim.
func TestFlavorIsSnapshotted(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateFlavor{Flavor: bigFlavor()})
	c := createCmd("a")
	c.Instances[0].FlavorID = "f-big"
	w.must(c)
	w.must(&fsm.DeleteFlavor{ID: "f-big"})
	w.must(&fsm.CreateFlavor{Flavor: fsm.Flavor{ID: "f-big", Name: "x1.big", VCPUs: 1, RAM: 1, Disk: 1}})
	wantSpec := fsm.FlavorSpec{ID: "f-big", Name: "x1.big", VCPUs: 16, RAM: 65536, Disk: 200}
	if got := w.inst("a").Flavor; got != wantSpec {
		t.Fatalf("Flavor = %+v, want %+v", got, wantSpec)
	}
	w.must(inventory("h1", 16, 65536, 200))
	w.place("a", "h1")
	w.must(&fsm.DeleteFlavor{ID: "f-big"})
	if got := w.f.Usage()["h1"]; got != (fsm.Usage{VCPUs: 16, RAM: 65536, Disk: 200, Instances: 1}) {
		t.Errorf("Usage()[h1] = %+v, want the snapshotted flavor", got)
	}
	restored := fsm.New()
	restore(t, restored, snapshotBytes(t, w.f))
	assertSameReads(t, w.f, restored)
	checkDerived(t, w.f)
}

// actionSpec is what each action needs (no task, a host, one of from) and
// what it starts, as Nova's compute API defines it.
type actionSpec struct {
	name  string
	cmd   func(id string) *fsm.InstanceAction
	from  []string
	task  string
	needs string // how the refusal names the states it needs
	log   string // name in the action log
}

func simple(action string) func(string) *fsm.InstanceAction {
	return func(id string) *fsm.InstanceAction { return actionCmd(id, action) }
}

var actionSpecs = []actionSpec{
	{"start", simple(fsm.ActionStart), []string{fsm.VMStopped}, fsm.TaskPoweringOn, "SHUTOFF", "start"},
	{"stop", simple(fsm.ActionStop), []string{fsm.VMActive, fsm.VMPaused, fsm.VMSuspended, fsm.VMError}, fsm.TaskPoweringOff,
		"ACTIVE, PAUSED, SUSPENDED or ERROR", "stop"},
	{"pause", simple(fsm.ActionPause), []string{fsm.VMActive}, fsm.TaskPausing, "ACTIVE", "pause"},
	{"unpause", simple(fsm.ActionUnpause), []string{fsm.VMPaused}, fsm.TaskUnpausing, "PAUSED", "unpause"},
	{"suspend", simple(fsm.ActionSuspend), []string{fsm.VMActive}, fsm.TaskSuspending, "ACTIVE", "suspend"},
	{"resume", simple(fsm.ActionResume), []string{fsm.VMSuspended}, fsm.TaskResuming, "SUSPENDED", "resume"},
	{"reboot", simple(fsm.ActionReboot), []string{fsm.VMActive}, fsm.TaskRebooting, "ACTIVE", "reboot"},
	{"reboot hard", hardReboot, []string{fsm.VMActive, fsm.VMStopped, fsm.VMPaused, fsm.VMSuspended, fsm.VMError},
		fsm.TaskRebootingHard, "ACTIVE, SHUTOFF, PAUSED, SUSPENDED or ERROR", "reboot (hard)"},
}

// startState is a server state to try every action from.
type startState struct {
	vm, task string
	noHost   bool // ERROR because no host was found
}

func (s startState) String() string {
	task := s.task
	if task == "" {
		task = "none"
	}
	if s.noHost {
		return s.vm + "/" + task + "/no-host"
	}
	return s.vm + "/" + task
}

var startStates = []startState{
	{vm: fsm.VMActive}, {vm: fsm.VMActive, task: fsm.TaskRebooting}, {vm: fsm.VMActive, task: fsm.TaskDeleting},
	{vm: fsm.VMStopped}, {vm: fsm.VMStopped, task: fsm.TaskPoweringOn},
	{vm: fsm.VMPaused}, {vm: fsm.VMPaused, task: fsm.TaskUnpausing},
	{vm: fsm.VMSuspended}, {vm: fsm.VMSuspended, task: fsm.TaskResuming},
	{vm: fsm.VMError}, {vm: fsm.VMError, task: fsm.TaskPoweringOff}, {vm: fsm.VMError, noHost: true},
	{vm: fsm.VMBuilding, task: fsm.TaskScheduling}, {vm: fsm.VMBuilding, task: fsm.TaskSpawning},
}

func (w *world) reachState(id string, s startState) {
	w.t.Helper()
	if s.noHost {
		w.errorNoHost(id)
		return
	}
	w.reach(id, s.vm, s.task)
}

// Every action from every vm_state, idle and busy: allowed exactly when the
// spec says so; a refusal is ErrConflict, changes nothing and says why.
func TestTransitions(t *testing.T) {
	for _, st := range startStates {
		for _, spec := range actionSpecs {
			t.Run(st.String()+"/"+spec.name, func(t *testing.T) {
				w := newWorld(t, testCIDR)
				w.reachState("x", st)
				before := w.inst("x")
				usage := w.f.Usage()
				index := w.next
				c := spec.cmd("x")

				switch {
				case st.task != fsm.TaskNone:
					err := w.refuse(c, fsm.ErrConflict)
					if !strings.Contains(err.Error(), "busy") || !strings.Contains(err.Error(), st.task) {
						t.Errorf("refusal %q does not say the server is busy with %s", err, st.task)
					}
				case !slices.Contains(spec.from, st.vm):
					err := w.refuse(c, fsm.ErrConflict)
					verb := c.Action
					for _, part := range []string{"cannot " + verb + " server x", "while it is " + before.Status(),
						"vm_state " + st.vm, verb + " needs " + spec.needs} {
						if !strings.Contains(err.Error(), part) {
							t.Errorf("refusal %q does not contain %q", err, part)
						}
					}
				case st.noHost:
					err := w.refuse(c, fsm.ErrConflict)
					if !strings.Contains(err.Error(), "no host") {
						t.Errorf("refusal %q does not say the server has no host", err)
					}
				default:
					w.must(c)
					got := w.inst("x")
					if got.VMState != before.VMState || got.TaskState != spec.task {
						t.Errorf("after %s: vm_state %s task_state %s, want %s %s", spec.name, got.VMState, got.TaskState, before.VMState, spec.task)
					}
					if got.Updated != t1 || got.ModifyIndex != index || got.Host != before.Host {
						t.Errorf("after %s: updated %v modify %d host %q", spec.name, got.Updated, got.ModifyIndex, got.Host)
					}
					want := fsm.Action{RequestID: c.RequestID, Action: spec.log, Start: t1}
					if a := lastAction(t, got); a != want || len(got.Actions) != len(before.Actions)+1 {
						t.Errorf("action log %+v, want %+v appended", got.Actions, want)
					}
					if !reflect.DeepEqual(w.f.Usage(), usage) {
						t.Errorf("claims changed: %+v → %+v", usage, w.f.Usage())
					}
				}
				checkDerived(t, w.f)
			})
		}
	}
}

func TestDeleteFromEveryState(t *testing.T) {
	for _, st := range startStates {
		t.Run(st.String(), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.reachState("other", startState{vm: fsm.VMActive})
			w.reachState("x", st)
			before := w.inst("x")
			ip := before.Addresses[0].IP
			c := actionCmd("x", fsm.ActionDelete)

			switch {
			case st.task == fsm.TaskDeleting:
				err := w.refuse(c, fsm.ErrConflict)
				if !strings.Contains(err.Error(), "already being deleted") {
					t.Errorf("refusal %q", err)
				}
			case before.Host == "":
				w.must(c)
				w.gone("x")
				if owner := stateOf(t, w.f).Network.Allocated[ip]; owner != "" {
					t.Errorf("IP %s still allocated to %s", ip, owner)
				}
				w.create("y")
				if got := w.ip("y"); got != ip {
					t.Errorf("next server got %s, want the released %s", got, ip)
				}
			default:
				w.must(c)
				got := w.inst("x")
				if got.VMState != before.VMState || got.TaskState != fsm.TaskDeleting || got.Host != before.Host {
					t.Errorf("after delete: %s", describe(got))
				}
				if want := (&fsm.Instance{VMState: before.VMState}).Status(); got.Status() != want {
					t.Errorf("status %s while deleting, want %s (Nova shows the vm_state)", got.Status(), want)
				}
				if a := lastAction(t, got); a.Action != "delete" || a.Result != "" {
					t.Errorf("last action %+v, want open delete", a)
				}
				if stateOf(t, w.f).Network.Allocated[ip] != "x" {
					t.Error("IP released before the host destroyed the server")
				}
				w.refuse(actionCmd("x", fsm.ActionDelete), fsm.ErrConflict)
			}
			checkDerived(t, w.f)
		})
	}
}

func TestResetState(t *testing.T) {
	for _, st := range startStates {
		for _, target := range []string{"active", "error"} {
			t.Run(st.String()+"/"+target, func(t *testing.T) {
				w := newWorld(t, testCIDR)
				w.reachState("x", st)
				before := w.inst("x")
				c := resetState("x", target)
				if target == "active" && before.Host == "" {
					err := w.refuse(c, fsm.ErrConflict)
					if !strings.Contains(err.Error(), "no host") {
						t.Errorf("refusal %q does not say the server has no host", err)
					}
					return
				}
				index := w.next
				w.must(c)
				got := w.inst("x")
				wantVM := map[string]string{"active": fsm.VMActive, "error": fsm.VMError}[target]
				if got.VMState != wantVM || got.TaskState != fsm.TaskNone || got.Host != before.Host || got.ModifyIndex != index {
					t.Errorf("after reset-state %s: %s", target, describe(got))
				}
				if got.Pending() {
					t.Error("a reset server is still pending")
				}
				n := len(before.Actions)
				if len(got.Actions) != n+1 {
					t.Fatalf("actions %+v, want one more than %+v", got.Actions, before.Actions)
				}
				if a := got.Actions[n]; a != (fsm.Action{RequestID: c.RequestID, Action: "reset-state " + target, Start: t1, Finish: t1, Result: "success"}) {
					t.Errorf("reset-state action = %+v", a)
				}
				// An action that was still running is closed as interrupted.
				if open := before.Actions[n-1]; open.Result == "" {
					if a := got.Actions[n-1]; a.Result != "error" || a.Message != "interrupted by reset-state" || a.Finish != t1 {
						t.Errorf("interrupted action = %+v", a)
					}
				} else if got.Actions[n-1] != open {
					t.Errorf("finished action changed: %+v → %+v", open, got.Actions[n-1])
				}
				checkDerived(t, w.f)
			})
		}
	}

	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMActive, fsm.TaskNone)
	for _, state := range []string{"", "stopped", "ACTIVE", "building", "deleted", "paused"} {
		err := w.refuse(resetState("x", state), fsm.ErrInvalid)
		if !strings.Contains(err.Error(), "active or error") {
			t.Errorf("reset-state %q: %q does not say what is allowed", state, err)
		}
	}
	w.refuse(resetState("nope", "active"), fsm.ErrNotFound)
}

func TestInstanceActionRefused(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMStopped, fsm.TaskNone)
	for _, tc := range []struct {
		cmd  *fsm.InstanceAction
		want error
		msg  []string
	}{
		{actionCmd("nope", fsm.ActionStart), fsm.ErrNotFound, []string{`server "nope"`}},
		{actionCmd("x", "rebuild"), fsm.ErrInvalid, []string{`unknown action "rebuild"`}},
		{actionCmd("x", ""), fsm.ErrInvalid, []string{"unknown action"}},
		{actionCmd("x", fsm.ActionPause), fsm.ErrConflict, []string{"SHUTOFF", "pause needs ACTIVE"}},
		{actionCmd("x", fsm.ActionReboot), fsm.ErrConflict, []string{"SHUTOFF", "reboot needs ACTIVE"}},
		{actionCmd("x", fsm.ActionResume), fsm.ErrConflict, []string{"SHUTOFF", "resume needs SUSPENDED"}},
		{actionCmd("x", fsm.ActionStop), fsm.ErrConflict, []string{"SHUTOFF", "stop needs ACTIVE"}},
	} {
		err := w.refuse(tc.cmd, tc.want)
		for _, m := range tc.msg {
			if !strings.Contains(err.Error(), m) {
				t.Errorf("%s %s: %q does not contain %q", tc.cmd.Action, tc.cmd.ID, err, m)
			}
		}
	}
	w.act("x", fsm.ActionStart)
	err := w.refuse(actionCmd("x", "rebuild"), fsm.ErrInvalid) // unknown beats busy
	if strings.Contains(err.Error(), "busy") {
		t.Errorf("unknown action reported as busy: %q", err)
	}
}

// Status follows Nova's mapping from vm_state and task_state.
func TestStatus(t *testing.T) {
	for _, tc := range []struct {
		vm, task, want string
	}{
		{fsm.VMBuilding, fsm.TaskScheduling, "BUILD"},
		{fsm.VMBuilding, fsm.TaskSpawning, "BUILD"},
		{fsm.VMBuilding, fsm.TaskDeleting, "BUILD"},
		{fsm.VMBuilding, fsm.TaskNone, "BUILD"},
		{fsm.VMActive, fsm.TaskNone, "ACTIVE"},
		{fsm.VMActive, fsm.TaskRebooting, "REBOOT"},
		{fsm.VMActive, fsm.TaskRebootingHard, "HARD_REBOOT"},
		{fsm.VMActive, fsm.TaskPoweringOff, "ACTIVE"},
		{fsm.VMActive, fsm.TaskPausing, "ACTIVE"},
		{fsm.VMActive, fsm.TaskSuspending, "ACTIVE"},
		{fsm.VMActive, fsm.TaskDeleting, "ACTIVE"},
		{fsm.VMStopped, fsm.TaskNone, "SHUTOFF"},
		{fsm.VMStopped, fsm.TaskPoweringOn, "SHUTOFF"},
		{fsm.VMStopped, fsm.TaskRebootingHard, "SHUTOFF"},
		{fsm.VMStopped, fsm.TaskDeleting, "SHUTOFF"},
		{fsm.VMPaused, fsm.TaskNone, "PAUSED"},
		{fsm.VMPaused, fsm.TaskUnpausing, "PAUSED"},
		{fsm.VMPaused, fsm.TaskPoweringOff, "PAUSED"},
		{fsm.VMPaused, fsm.TaskRebootingHard, "PAUSED"},
		{fsm.VMSuspended, fsm.TaskNone, "SUSPENDED"},
		{fsm.VMSuspended, fsm.TaskResuming, "SUSPENDED"},
		{fsm.VMSuspended, fsm.TaskRebootingHard, "SUSPENDED"},
		{fsm.VMError, fsm.TaskNone, "ERROR"},
		{fsm.VMError, fsm.TaskPoweringOff, "ERROR"},
		{fsm.VMError, fsm.TaskRebootingHard, "ERROR"},
		{fsm.VMError, fsm.TaskDeleting, "ERROR"},
		{fsm.VMDeleted, fsm.TaskNone, "DELETED"},
		{"", fsm.TaskNone, "UNKNOWN"},
		{"rescued", fsm.TaskNone, "UNKNOWN"},
	} {
		i := fsm.Instance{VMState: tc.vm, TaskState: tc.task}
		if got := i.Status(); got != tc.want {
			t.Errorf("Status(%q, %q) = %s, want %s", tc.vm, tc.task, got, tc.want)
		}
	}

	// And the states reached through the log show the same.
	w := newWorld(t, testCIDR)
	for k, st := range startStates {
		id := fmt.Sprintf("s%d", k)
		w.reachState(id, st)
		i := w.inst(id)
		if got, want := i.Status(), (&fsm.Instance{VMState: st.vm, TaskState: st.task}).Status(); got != want {
			t.Errorf("%s: Status %s, want %s", st, got, want)
		}
	}
}

// The action log keeps the newest entries only.
func TestActionLogBounded(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.reach("x", fsm.VMActive, fsm.TaskNone)
	for range 60 {
		w.act("x", fsm.ActionReboot)
		w.finish("x")
	}
	i := w.inst("x")
	if len(i.Actions) != 50 {
		t.Fatalf("%d actions, want the newest 50", len(i.Actions))
	}
	if a := i.Actions[0]; a.Action != "reboot" {
		t.Errorf("oldest kept action %+v, want a reboot (create is gone)", a)
	}
	for _, a := range i.Actions {
		if a.Result != "success" {
			t.Errorf("action %+v not finished", a)
		}
	}
}
