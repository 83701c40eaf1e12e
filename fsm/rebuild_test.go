package fsm_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func rebuildCmd(id, image string) *fsm.RebuildInstance {
	return &fsm.RebuildInstance{ID: id, ImageID: image, RequestID: "req-rebuild", UserID: "u-p1", ProjectID: "p1", Time: t2}
}

// A rebuild keeps the server on its host in task_state rebuilding with the
// new image (its claim stays); the host's report ends it ACTIVE, SHUTOFF
// as it was, or ACTIVE from ERROR.
func TestRebuildInstance(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateImage{Image: activeImage("img-2")})
	w.activeOwned("i-1", "p1")
	usage := w.f.Usage()
	c := rebuildCmd("i-1", "img-2")
	c.Name, c.ReplaceMetadata, c.Metadata = ptr("rebuilt"), true, map[string]string{"new": "1"}
	index := w.next
	w.must(c)
	i := w.inst("i-1")
	if i.TaskState != fsm.TaskRebuilding || i.Status() != "REBUILD" || i.ImageID != "img-2" || i.Name != "rebuilt" ||
		!maps.Equal(i.Metadata, map[string]string{"new": "1"}) || i.Host != "h1" || i.TaskIndex != index || i.Pending() {
		t.Fatalf("rebuilding = %+v", i)
	}
	if a := lastAction(t, i); a.Action != fsm.ActionRebuild || a.ProjectID != "p1" || a.Result != "" {
		t.Errorf("action %+v", a)
	}
	if got := w.f.Usage(); !maps.Equal(got, usage) {
		t.Errorf("claims changed: %v, want %v", got, usage)
	}
	w.refuse(rebuildCmd("i-1", "img-2"), fsm.ErrConflict) // busy
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "i-1", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuilding}))
	i = w.inst("i-1")
	if i.Status() != "ACTIVE" || lastAction(t, i).Result != "success" || lastAction(t, i).Message != "" {
		t.Errorf("after the report: %s, %+v", i.Status(), lastAction(t, i))
	}

	// Stopped stays stopped; error comes back active; a failure is ERROR.
	w.act("i-1", fsm.ActionStop)
	w.finish("i-1")
	w.must(rebuildCmd("i-1", testImage))
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "i-1", PowerState: fsm.PowerShutdown, Done: fsm.TaskRebuilding}))
	if i := w.inst("i-1"); i.Status() != "SHUTOFF" || i.ImageID != testImage {
		t.Errorf("stopped rebuild ends %s", i.Status())
	}
	w.must(resetState("i-1", "error"), rebuildCmd("i-1", "img-2"))
	w.must(reportCmd("h1", fsm.InstanceReport{ID: "i-1", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuilding, Error: "no disk"}))
	if i := w.inst("i-1"); i.Status() != "ERROR" || i.Fault == nil || !strings.Contains(i.Fault.Message, "Rebuild of instance i-1") {
		t.Errorf("failed rebuild: %s %+v", i.Status(), i.Fault)
	}
	w.must(rebuildCmd("i-1", "img-2"))
	w.finish("i-1")
	if i := w.inst("i-1"); i.Status() != "ACTIVE" {
		t.Errorf("rebuild from error ends %s", i.Status())
	}
}

func TestRebuildInstanceRefused(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateImage{Image: queuedImage("img-q")})
	w.activeOwned("i-1", "p1")
	w.must(ownedCreate("p1", "1", "i-2")) // still building
	w.must(lockCmd("i-1", "p1", false))
	locked := rebuildCmd("i-1", testImage)
	err := w.refuse(locked, fsm.ErrConflict)
	if !strings.Contains(err.Error(), "is locked") {
		t.Errorf("locked: %v", err)
	}
	locked.Admin = true
	w.must(locked)
	w.finish("i-1")
	w.must(unlockCmd("i-1", "p1", false))
	for _, tc := range []struct {
		name string
		c    *fsm.RebuildInstance
		want error
	}{
		{"unknown server", rebuildCmd("nope", testImage), fsm.ErrNotFound},
		{"unknown image", rebuildCmd("i-1", "nope"), fsm.ErrNotFound},
		{"queued image", rebuildCmd("i-1", "img-q"), fsm.ErrConflict},
		{"building", rebuildCmd("i-2", testImage), fsm.ErrConflict},
		{"empty name", func() *fsm.RebuildInstance { c := rebuildCmd("i-1", testImage); c.Name = ptr(""); return c }(), fsm.ErrInvalid},
		{"metadata without replace", func() *fsm.RebuildInstance {
			c := rebuildCmd("i-1", testImage)
			c.Metadata = map[string]string{"k": "v"}
			return c
		}(), fsm.ErrInvalid},
		{"bad metadata", func() *fsm.RebuildInstance {
			c := rebuildCmd("i-1", testImage)
			c.ReplaceMetadata, c.Metadata = true, map[string]string{"": "v"}
			return c
		}(), fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refuse(tc.c, tc.want)
		})
	}
}

// A rebuild may change the description (Nova 2.19), the key (2.54; ""
// drops it) and the user data (2.57), with create's rules; nil keeps them.
func TestRebuildBootData(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")
	bad := []*fsm.RebuildInstance{}
	for _, mutate := range []func(*fsm.RebuildInstance){
		func(c *fsm.RebuildInstance) { c.KeyData = "ssh-ed25519 AAAA" },
		func(c *fsm.RebuildInstance) { c.KeyName = ptr("k") },
		func(c *fsm.RebuildInstance) { c.UserData = ptr("not base64!") },
		func(c *fsm.RebuildInstance) { c.Description = ptr(strings.Repeat("d", fsm.MaxServerDescription+1)) },
	} {
		c := rebuildCmd("i-1", testImage)
		mutate(c)
		bad = append(bad, c)
	}
	for _, c := range bad {
		w.refuse(c, fsm.ErrInvalid)
	}
	c := rebuildCmd("i-1", testImage)
	c.Description, c.UserData, c.KeyName = ptr("rebuilt"), ptr("aGk="), ptr("")
	w.must(c)
	if i := w.inst("i-1"); i.Description != "rebuilt" || i.UserData != "aGk=" || i.KeyName != "" || i.KeyData != "" {
		t.Fatalf("after rebuild: %+v", i)
	}
	w.finish("i-1")
	w.must(rebuildCmd("i-1", testImage))
	if i := w.inst("i-1"); i.Description != "rebuilt" || i.UserData != "aGk=" {
		t.Fatalf("a rebuild without them changed them: %+v", i)
	}
}
