package fsm_test

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// activeOwned brings a new server of project p to ACTIVE on h1.
func (w *world) activeOwned(id, p string) {
	w.t.Helper()
	w.must(ownedCreate(p, "1", id))
	w.place(id, "h1")
	w.finish(id)
}

func updateCmd(id string) *fsm.UpdateInstance { return &fsm.UpdateInstance{ID: id, Time: t2} }

func TestUpdateInstance(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")
	before := w.inst("i-1")

	c := updateCmd("i-1")
	c.Name, c.Description, c.AccessIPv4, c.AccessIPv6 = ptr("renamed"), ptr("the web tier"), ptr("192.0.2.7"), ptr("2001:db8::7")
	index := w.next
	w.must(c)
	got := w.inst("i-1")
	if got.Name != "renamed" || got.Description != "the web tier" || got.AccessIPv4 != "192.0.2.7" || got.AccessIPv6 != "2001:db8::7" {
		t.Errorf("after update: %+v", got)
	}
	if got.ModifyIndex != index || !got.Updated.Equal(t2) {
		t.Errorf("modify index %d updated %v, want %d and %v", got.ModifyIndex, got.Updated, index, t2)
	}
	if len(got.Actions) != len(before.Actions) {
		t.Errorf("an update is not an action (Nova logs none): %+v", got.Actions)
	}

	// nil leaves a field alone, "" clears it; the same values change nothing.
	c = updateCmd("i-1")
	c.Description, c.AccessIPv4 = ptr(""), ptr("")
	w.must(c)
	if got := w.inst("i-1"); got.Name != "renamed" || got.Description != "" || got.AccessIPv4 != "" || got.AccessIPv6 != "2001:db8::7" {
		t.Errorf("after clearing: %+v", got)
	}
	c = updateCmd("i-1")
	c.Name = ptr("renamed")
	w.noop(c)
	w.noop(updateCmd("i-1"))

	// A locked server can still be renamed (Nova does not check the lock here).
	w.must(lockCmd("i-1", "p1", false))
	c = updateCmd("i-1")
	c.Name = ptr("locked-but-renamed")
	w.must(c)
	// A server being deleted too.
	w.must(&fsm.LockInstance{ID: "i-1", Unlock: true, ProjectID: "p1", Time: t2}, actionCmd("i-1", fsm.ActionDelete))
	w.must(c)
}

// Bad input is refused and changes nothing.
func TestUpdateInstanceRejects(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")
	for _, tc := range []struct {
		name   string
		change func(*fsm.UpdateInstance)
		want   error
	}{
		{"unknown server", func(c *fsm.UpdateInstance) { c.ID = "nope"; c.Name = ptr("x") }, fsm.ErrNotFound},
		{"empty name", func(c *fsm.UpdateInstance) { c.Name = ptr("") }, fsm.ErrInvalid},
		{"long name", func(c *fsm.UpdateInstance) { c.Name = ptr(strings.Repeat("n", 256)) }, fsm.ErrInvalid},
		{"name with a newline", func(c *fsm.UpdateInstance) { c.Name = ptr("a\nb") }, fsm.ErrInvalid},
		{"long description", func(c *fsm.UpdateInstance) { c.Description = ptr(strings.Repeat("d", 256)) }, fsm.ErrInvalid},
		{"description with a control", func(c *fsm.UpdateInstance) { c.Description = ptr("a\x00b") }, fsm.ErrInvalid},
		{"v4 not an address", func(c *fsm.UpdateInstance) { c.AccessIPv4 = ptr("192.0.2") }, fsm.ErrInvalid},
		{"v4 given a v6", func(c *fsm.UpdateInstance) { c.AccessIPv4 = ptr("2001:db8::1") }, fsm.ErrInvalid},
		{"v4 mapped in v6", func(c *fsm.UpdateInstance) { c.AccessIPv6 = ptr("::ffff:192.0.2.1") }, fsm.ErrInvalid},
		{"v6 given a v4", func(c *fsm.UpdateInstance) { c.AccessIPv6 = ptr("192.0.2.1") }, fsm.ErrInvalid},
		{"v6 not canonical", func(c *fsm.UpdateInstance) { c.AccessIPv6 = ptr("2001:DB8:0::1") }, fsm.ErrInvalid},
		{"v6 with a zone", func(c *fsm.UpdateInstance) { c.AccessIPv6 = ptr("fe80::1%eth0") }, fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := updateCmd("i-1")
			tc.change(c)
			w.t = t
			w.refuse(c, tc.want)
		})
	}
}

func metadataCmd(id string, set map[string]string, del ...string) *fsm.UpdateInstanceMetadata {
	return &fsm.UpdateInstanceMetadata{ID: id, Set: set, Delete: del, Time: t2}
}

func TestUpdateInstanceMetadata(t *testing.T) {
	w := newWorld(t, testCIDR)
	c := ownedCreate("p1", "1", "i-1")
	c.Instances[0].Metadata = map[string]string{"a": "1", "b": "2"}
	w.must(c)
	w.refuse(metadataCmd("i-1", map[string]string{"c": "3"}), fsm.ErrConflict) // still building, as in Nova
	w.place("i-1", "h1")
	w.finish("i-1")

	check := func(want map[string]string) {
		t.Helper()
		if got := w.inst("i-1").Metadata; !maps.Equal(got, want) {
			t.Errorf("metadata = %v, want %v", got, want)
		}
	}
	w.must(metadataCmd("i-1", map[string]string{"b": "two", "c": "3"})) // POST: merge
	check(map[string]string{"a": "1", "b": "two", "c": "3"})
	w.must(metadataCmd("i-1", nil, "a")) // DELETE one key
	check(map[string]string{"b": "two", "c": "3"})
	replace := metadataCmd("i-1", map[string]string{"only": "this"})
	replace.Replace = true // PUT: the whole map
	index := w.next
	w.must(replace)
	check(map[string]string{"only": "this"})
	if i := w.inst("i-1"); i.ModifyIndex != index || !i.Updated.Equal(t2) {
		t.Errorf("modify index %d updated %v", i.ModifyIndex, i.Updated)
	}
	w.refuse(metadataCmd("i-1", nil, "gone"), fsm.ErrNotFound)
	// Replace with nothing empties it: the server looks as if it never had any.
	empty := metadataCmd("i-1", nil)
	empty.Replace = true
	w.must(empty)
	if md := w.inst("i-1").Metadata; md != nil {
		t.Errorf("emptied metadata = %#v, want nil", md)
	}

	// Stopped, paused and suspended servers take changes; busy ones do not.
	w.act("i-1", fsm.ActionStop)
	w.refuse(metadataCmd("i-1", map[string]string{"x": "1"}), fsm.ErrConflict)
	w.finish("i-1")
	w.must(metadataCmd("i-1", map[string]string{"x": "1"}))

	for _, tc := range []struct {
		name string
		c    *fsm.UpdateInstanceMetadata
		want error
	}{
		{"nothing", metadataCmd("i-1", nil), fsm.ErrInvalid},
		{"unknown server", metadataCmd("nope", map[string]string{"x": "1"}), fsm.ErrNotFound},
		{"empty key", metadataCmd("i-1", map[string]string{"": "1"}), fsm.ErrInvalid},
		{"long key", metadataCmd("i-1", map[string]string{strings.Repeat("k", 256): "1"}), fsm.ErrInvalid},
		{"long value", metadataCmd("i-1", map[string]string{"k": strings.Repeat("v", 256)}), fsm.ErrInvalid},
		{"control in a value", metadataCmd("i-1", map[string]string{"k": "a\tb"}), fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refuse(tc.c, tc.want)
		})
	}
}

// metadata_items bounds each server's metadata: at create and on every
// change, against the server's project's limit, with Nova's message.
func TestMetadataQuota(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(setQuota("p1", fsm.QuotaOverride{MetadataItems: ptr(2)}))
	c := ownedCreate("p1", "1", "i-1")
	c.Instances[0].Metadata = map[string]string{"a": "1", "b": "2", "c": "3"}
	err := w.refuse(c, fsm.ErrOverQuota)
	var q *fsm.QuotaError
	if !errors.As(err, &q) || q.Resource != fsm.QuotaMetadataItems || err.Error() != "Maximum number of metadata items exceeds 2" {
		t.Errorf("create over quota: %v, want Nova's message", err)
	}
	// Other projects keep the default, 128.
	big := map[string]string{}
	for k := range 128 {
		big[fmt.Sprint("k", k)] = "v"
	}
	other := ownedCreate("p2", "1", "i-2")
	other.Instances[0].Metadata = big
	w.must(other)

	delete(c.Instances[0].Metadata, "c")
	w.must(c)
	w.place("i-1", "h1")
	w.finish("i-1")
	w.refuse(metadataCmd("i-1", map[string]string{"c": "3"}), fsm.ErrOverQuota)
	w.must(metadataCmd("i-1", map[string]string{"a": "one"})) // a change, not one more
	swap := metadataCmd("i-1", map[string]string{"c": "3"}, "a")
	w.must(swap) // one in, one out
	replace := metadataCmd("i-1", map[string]string{"x": "1", "y": "2"})
	replace.Replace = true
	w.must(replace)
	w.must(setQuota("p1", fsm.QuotaOverride{MetadataItems: ptr(fsm.Unlimited)}))
	w.must(metadataCmd("i-1", big))
}

func lockCmd(id, project string, admin bool) *fsm.LockInstance {
	return &fsm.LockInstance{ID: id, RequestID: "req-lock", UserID: "u-" + project, ProjectID: project, Admin: admin, Time: t2}
}

func unlockCmd(id, project string, admin bool) *fsm.LockInstance {
	c := lockCmd(id, project, admin)
	c.Unlock, c.RequestID = true, "req-unlock"
	return c
}

// While a server is locked, every action, delete and metadata change of a
// non-admin is refused (409, Nova's message); an admin may act.
func TestLockBlocksNonAdmins(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")
	lock := lockCmd("i-1", "p1", false)
	lock.Reason = "maintenance window"
	index := w.next
	w.must(lock)
	i := w.inst("i-1")
	if !i.Locked || i.LockedBy != fsm.LockedByOwner || i.LockedReason != "maintenance window" || i.ModifyIndex != index {
		t.Fatalf("locked server = locked %v by %q reason %q index %d", i.Locked, i.LockedBy, i.LockedReason, i.ModifyIndex)
	}
	if a := lastAction(t, i); a.Action != fsm.ActionLock || a.Result != "success" || a.ProjectID != "p1" || !a.Finish.Equal(t2) {
		t.Errorf("action log: %+v", a)
	}
	for _, action := range []string{fsm.ActionStop, fsm.ActionReboot, fsm.ActionPause, fsm.ActionSuspend, fsm.ActionDelete} {
		c := actionCmd("i-1", action)
		c.ProjectID = "p1"
		err := w.refuse(c, fsm.ErrConflict)
		if !strings.Contains(err.Error(), "Instance i-1 is locked") {
			t.Errorf("%s: %v, want Nova's message", action, err)
		}
	}
	w.refuse(metadataCmd("i-1", map[string]string{"a": "1"}), fsm.ErrConflict)
	if i := w.inst("i-1"); !errors.Is(i.CheckLock(false), fsm.ErrConflict) || i.CheckLock(true) != nil {
		t.Errorf("CheckLock: a non-admin passes or an admin does not")
	}

	// Admins act on locked servers.
	admin := actionCmd("i-1", fsm.ActionStop)
	admin.Admin = true
	w.must(admin)
	w.finish("i-1")
	md := metadataCmd("i-1", map[string]string{"a": "1"})
	md.Admin = true
	w.must(md)

	// The owner unlocks its own lock; the reason goes with it.
	w.must(unlockCmd("i-1", "p1", false))
	if i := w.inst("i-1"); i.Locked || i.LockedBy != "" || i.LockedReason != "" || lastAction(t, i).Action != fsm.ActionUnlock {
		t.Errorf("unlocked server = %+v", i)
	}
	w.act("i-1", fsm.ActionStart)
}

// An admin's lock binds the owner until an admin lifts it (Nova's
// unlock_override); the owner re-locking a locked server changes nothing.
func TestLockOwnership(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")
	w.must(lockCmd("i-1", "p1", false))
	w.noop(lockCmd("i-1", "p1", false)) // Nova returns early: no action logged

	// An admin of another project takes the lock over.
	w.must(lockCmd("i-1", "admin", true))
	if i := w.inst("i-1"); i.LockedBy != fsm.LockedByAdmin {
		t.Errorf("locked by %q, want admin", i.LockedBy)
	}
	if i := w.inst("i-1"); i.MayUnlock("p1", false) || !i.MayUnlock("p1", true) {
		t.Error("owner may unlock an admin's lock, or an admin may not")
	}
	w.refuse(unlockCmd("i-1", "p1", false), fsm.ErrForbidden)
	w.noop(lockCmd("i-1", "p1", false))
	// Another project without admin may not lock (the API answers 404 first).
	w.refuse(lockCmd("i-1", "p2", false), fsm.ErrForbidden)
	w.must(unlockCmd("i-1", "admin", true))
	// Unlocking an unlocked server is logged and changes nothing else.
	w.must(unlockCmd("i-1", "p1", false))
	if i := w.inst("i-1"); i.Locked || lastAction(t, i).Action != fsm.ActionUnlock {
		t.Errorf("server = %+v", i)
	}

	for _, tc := range []struct {
		name string
		c    *fsm.LockInstance
		want error
	}{
		{"unknown server", lockCmd("nope", "p1", false), fsm.ErrNotFound},
		{"reason with unlock", func() *fsm.LockInstance { c := unlockCmd("i-1", "p1", false); c.Reason = "x"; return c }(), fsm.ErrInvalid},
		{"long reason", func() *fsm.LockInstance {
			c := lockCmd("i-1", "p1", false)
			c.Reason = strings.Repeat("r", 256)
			return c
		}(), fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			w.refuse(tc.c, tc.want)
		})
	}
}

// A server made with a description and access addresses keeps them; bad
// ones refuse the whole create.
func TestCreateWithServerText(t *testing.T) {
	w := newWorld(t, testCIDR)
	c := ownedCreate("p1", "1", "i-1", "i-2")
	c.Instances[0].Description, c.Instances[0].AccessIPv4, c.Instances[0].AccessIPv6 = "db", "192.0.2.1", "2001:db8::1"
	bad := *c
	bad.Instances = append([]fsm.NewInstance(nil), c.Instances...)
	bad.Instances[1].AccessIPv4 = "300.0.0.1"
	w.refuse(&bad, fsm.ErrInvalid)
	bad.Instances[1].AccessIPv4, bad.Instances[1].Metadata = "", map[string]string{"k": "a\x01"}
	w.refuse(&bad, fsm.ErrInvalid)
	w.must(c)
	i := w.inst("i-1")
	if i.Description != "db" || i.AccessIPv4 != "192.0.2.1" || i.AccessIPv6 != "2001:db8::1" {
		t.Errorf("created = %+v", i)
	}
	if i2 := w.inst("i-2"); !reflect.DeepEqual([3]string{i2.Description, i2.AccessIPv4, i2.AccessIPv6}, [3]string{}) {
		t.Errorf("i-2 = %+v", i2)
	}
}
