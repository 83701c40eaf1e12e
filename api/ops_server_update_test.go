package api

import (
	"maps"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

func TestUpdateServer(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	path := "/v1/servers/" + w.alpha.server
	resp, raw := w.as(t, member, "PUT", path, `{"server":{"name":"renamed","description":"the web tier","accessIPv4":"192.0.2.7"}}`)
	d := decode[ServerResponse](t, raw).Server
	if resp.StatusCode != http.StatusOK || d.Name != "renamed" || d.Description != "the web tier" || d.AccessIPv4 != "192.0.2.7" ||
		d.AccessIPv6 != "" || indexOf(t, resp) != w.c.FSM.Index() {
		t.Fatalf("PUT = %d %s", resp.StatusCode, raw)
	}
	// Clearing one field leaves the others; nothing to change proposes nothing.
	w.as(t, member, "PUT", path, `{"server":{"description":""}}`)
	before := w.c.snapshot()
	resp, raw = w.as(t, member, "PUT", path, `{"server":{}}`)
	if d := decode[ServerResponse](t, raw).Server; resp.StatusCode != 200 || d.Name != "renamed" || d.Description != "" || d.AccessIPv4 != "192.0.2.7" {
		t.Errorf("empty PUT = %d %s", resp.StatusCode, raw)
	}
	for _, tc := range []struct {
		caller, path, body string
		status             int
		contains           string
	}{
		{member, path, `{"server":{"accessIPv4":"2001:db8::1"}}`, 400, "accessIPv4"},
		{member, path, `{"server":{"accessIPv6":"192.0.2.1"}}`, 400, "accessIPv6"},
		{member, path, `{"server":{"name":""}}`, 400, "empty"},
		{member, path, `{"server":{"name":"x","flavor":"2"}}`, 400, "flavor"},
		{member, path, `{"name":"x"}`, 400, "name"},
		{member, path, `{"server":null}`, 400, "server"},
		{member, "/v1/servers/" + w.beta.server, `{"server":{"name":"mine"}}`, 404, ""},
		{reader, path, `{"server":{"name":"x"}}`, 403, ""},
	} {
		resp, raw := w.as(t, tc.caller, "PUT", tc.path, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused or empty update changed the state")
	}
}

func TestServerMetadata(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	path := "/v1/servers/" + w.alpha.server + "/metadata"
	want := func(md map[string]string) {
		t.Helper()
		resp, raw := w.as(t, reader, "GET", path, "")
		if got := decode[MetadataBody](t, raw).Metadata; resp.StatusCode != 200 || !maps.Equal(got, md) {
			t.Fatalf("GET metadata = %d %s, want %v", resp.StatusCode, raw, md)
		}
	}
	want(map[string]string{"role": "web"})

	resp, raw := w.as(t, member, "POST", path, `{"metadata":{"tier":"1","role":"db"}}`)
	if got := decode[MetadataBody](t, raw).Metadata; resp.StatusCode != 200 || !maps.Equal(got, map[string]string{"role": "db", "tier": "1"}) {
		t.Fatalf("POST = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, member, "PUT", path+"/zone", `{"meta":{"zone":"a"}}`)
	if resp.StatusCode != 200 || string(raw) != `{"meta":{"zone":"a"}}`+"\n" {
		t.Fatalf("PUT one = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, reader, "GET", path+"/zone", "")
	if resp.StatusCode != 200 || string(raw) != `{"meta":{"zone":"a"}}`+"\n" {
		t.Fatalf("GET one = %d %s", resp.StatusCode, raw)
	}
	if resp, raw := w.as(t, member, "DELETE", path+"/tier", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", resp.StatusCode, raw)
	}
	want(map[string]string{"role": "db", "zone": "a"})
	resp, raw = w.as(t, member, "PUT", path, `{"metadata":{"only":"this"}}`)
	if resp.StatusCode != 200 || string(raw) != `{"metadata":{"only":"this"}}`+"\n" {
		t.Fatalf("PUT all = %d %s", resp.StatusCode, raw)
	}
	w.as(t, member, "POST", path, `{"metadata":{}}`) // merging nothing: as it is
	want(map[string]string{"only": "this"})

	// Over the project's metadata_items: Nova's 403; the admin sets it.
	w.as(t, admin, "PUT", "/v1/quota-sets/"+w.alpha.project, `{"quota_set":{"metadata_items":2}}`)
	before := w.c.snapshot()
	for _, tc := range []struct {
		method, path, body string
		status             int
		contains           string
	}{
		{"POST", path, `{"metadata":{"a":"1","b":"2"}}`, 403, "Maximum number of metadata items exceeds 2"},
		{"PUT", path, `{"metadata":{"a":"1","b":"2","c":"3"}}`, 403, "Maximum number of metadata items exceeds 2"},
		{"PUT", path + "/a", `{"meta":{"b":"1"}}`, 400, "Request body and URI mismatch"},
		{"PUT", path + "/a", `{"meta":{"a":"1","b":"2"}}`, 400, "too many"},
		{"PUT", path + "/a", `{"meta":{}}`, 400, "mismatch"},
		{"POST", path, `{"metadata":{"":"v"}}`, 400, "empty"},
		{"POST", path, `{"meta":{"k":"v"}}`, 400, "meta"},
		{"POST", path, `{}`, 400, "metadata"},
		{"DELETE", path + "/gone", "", 404, "Metadata item was not found"},
		{"GET", path + "/gone", "", 404, "Metadata item was not found"},
		{"POST", "/v1/servers/" + w.beta.server + "/metadata", `{"metadata":{"k":"v"}}`, 404, ""},
	} {
		resp, raw := w.as(t, member, tc.method, tc.path, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused metadata change changed the state")
	}
	// Replacing within the limit is fine.
	if resp, raw := w.as(t, member, "PUT", path, `{"metadata":{"a":"1","b":"2"}}`); resp.StatusCode != 200 {
		t.Errorf("PUT within the limit = %d %s", resp.StatusCode, raw)
	}
}

// A locked server refuses a member's actions and metadata changes with
// Nova's 409; an admin acts; an admin's lock is an admin's to lift.
func TestLockServer(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	action := "/v1/servers/" + w.alpha.server + "/action"
	resp, raw := w.as(t, member, "POST", action, `{"action":"lock","reason":"maintenance"}`)
	d := decode[ServerResponse](t, raw).Server
	if resp.StatusCode != http.StatusAccepted || !d.Locked || d.LockedReason != "maintenance" {
		t.Fatalf("lock = %d %s", resp.StatusCode, raw)
	}
	before := w.c.snapshot()
	for _, tc := range []struct {
		method, path, body string
	}{
		{"POST", action, `{"action":"stop"}`},
		{"POST", action, `{"action":"reboot","type":"HARD"}`},
		{"DELETE", "/v1/servers/" + w.alpha.server, ""},
		{"POST", "/v1/servers/" + w.alpha.server + "/metadata", `{"metadata":{"k":"v"}}`},
		{"DELETE", "/v1/servers/" + w.alpha.server + "/metadata/role", ""},
	} {
		resp, raw := w.as(t, member, tc.method, tc.path, tc.body)
		wantError(t, resp, raw, 409, "Instance "+w.alpha.server+" is locked")
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused change of a locked server changed the state")
	}
	resp, raw = w.as(t, member, "POST", action, `{"action":"unlock","reason":"x"}`)
	wantError(t, resp, raw, 400, "reason goes only with lock")

	// The admin renames (no lock check, as Nova), changes metadata, takes the lock.
	if resp, raw := w.as(t, member, "PUT", "/v1/servers/"+w.alpha.server, `{"server":{"name":"still"}}`); resp.StatusCode != 200 {
		t.Errorf("rename of a locked server = %d %s", resp.StatusCode, raw)
	}
	if resp, raw := w.as(t, admin, "POST", "/v1/servers/"+w.alpha.server+"/metadata", `{"metadata":{"k":"v"}}`); resp.StatusCode != 200 {
		t.Errorf("admin's metadata change = %d %s", resp.StatusCode, raw)
	}
	ops := w.srv.Ops()
	if _, d, err := ops.LockServer(w.adminCtx(t), w.alpha.server, ""); err != nil || !d.Locked {
		t.Fatalf("admin lock: %v", err)
	}
	if i, _ := w.c.FSM.Instance(w.alpha.server); i.LockedBy != fsm.LockedByAdmin || i.LockedReason != "maintenance" {
		t.Errorf("after the admin's lock: by %q reason %q", i.LockedBy, i.LockedReason)
	}
	resp, raw = w.as(t, member, "POST", action, `{"action":"unlock"}`)
	wantError(t, resp, raw, 403, "")
	resp, raw = w.as(t, admin, "POST", action, `{"action":"stop"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("admin's stop of a locked server = %d %s", resp.StatusCode, raw)
	}
	if _, d, err := ops.UnlockServer(w.adminCtx(t), w.alpha.server); err != nil || d.Locked || d.LockedReason != "" {
		t.Fatalf("admin unlock: %v %+v", err, d)
	}
	acts := decode[ServerActionList](t, must200(t, w, reader, "/v1/servers/"+w.alpha.server+"/actions")).Actions
	var names []string
	for _, a := range acts[:4] {
		names = append(names, a.Action)
	}
	if !reflect.DeepEqual(names, []string{"unlock", "stop", "lock", "lock"}) {
		t.Errorf("action log, newest first: %v", names)
	}
}

// DeletedServers and DeletedServer read the record of servers that went.
func TestDeletedServers(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	start := time.Now().UTC().Add(-time.Minute)
	c := &fsm.CreateInstances{RequestID: "r", Time: start, ProjectID: w.alpha.project, UserID: w.alpha.user,
		Instances: []fsm.NewInstance{{ID: "gone", Name: "gone", FlavorID: "1", ImageID: w.alpha.image}}}
	w.c.MustApply(t, c, &fsm.InstanceAction{ID: "gone", Action: fsm.ActionDelete, RequestID: "r2", ProjectID: w.alpha.project, Time: start})
	ops := w.srv.Ops()
	got, err := ops.DeletedServers(w.ctxOf(t, member), start, false)
	if err != nil || len(got) != 1 || got[0].ID != "gone" || got[0].Status() != "DELETED" {
		t.Fatalf("alpha's deleted = %+v, %v", got, err)
	}
	if got, _ := ops.DeletedServers(w.ctxOf(t, betaUser), start, false); len(got) != 0 {
		t.Errorf("beta sees alpha's deleted servers: %+v", got)
	}
	if _, err := ops.DeletedServers(w.ctxOf(t, member), start, true); StatusOf(err) != 403 {
		t.Errorf("a member lists every project's: %v", err)
	}
	if got, err := ops.DeletedServers(w.adminCtx(t), start.Add(time.Hour), true); err != nil || len(got) != 0 {
		t.Errorf("deleted since later = %+v, %v", got, err)
	}
	if _, err := ops.DeletedServer(w.ctxOf(t, betaUser), "gone"); StatusOf(err) != 404 {
		t.Errorf("beta reads alpha's deleted server: %v", err)
	}
	if d, err := ops.DeletedServer(w.ctxOf(t, reader), "gone"); err != nil || len(d.Actions) != 2 {
		t.Errorf("alpha's deleted server = %+v, %v", d, err)
	}
}

func must200(t *testing.T, w *tenants, caller, path string) []byte {
	t.Helper()
	resp, raw := w.as(t, caller, "GET", path, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, raw)
	}
	return raw
}

// A rebuild is an action: 202 and REBUILD at once; Nova's refusals before
// anything is proposed.
func TestRebuildServer(t *testing.T) {
	w := seedPolicyUpdates(t, newTenants(t))
	action := "/v1/servers/" + w.alpha.server + "/action"
	before := w.c.snapshot()
	for _, tc := range []struct {
		caller, body string
		status       int
		contains     string
	}{
		{member, `{"action":"rebuild"}`, 400, "rebuild needs the image"},
		{member, `{"action":"rebuild","image":"` + w.beta.image + `"}`, 400, "Image " + w.beta.image + " could not be found."},
		{member, `{"action":"rebuild","image":"` + w.alpha.image + `","name":" x"}`, 400, "whitespace"},
		{member, `{"action":"rebuild","image":"` + w.alpha.image + `","metadata":{"":"v"}}`, 400, "empty"},
		{member, `{"action":"stop","metadata":{"k":"v"}}`, 400, "metadata goes only with rebuild"},
		{member, `{"action":"stop","image":"x"}`, 400, "image goes only with rebuild"},
		{reader, `{"action":"rebuild","image":"` + w.alpha.image + `"}`, 403, ""},
	} {
		resp, raw := w.as(t, tc.caller, "POST", action, tc.body)
		wantError(t, resp, raw, tc.status, tc.contains)
	}
	if after := w.c.snapshot(); !reflect.DeepEqual(after, before) {
		t.Error("a refused rebuild changed the state")
	}
	resp, raw := w.as(t, member, "POST", action, `{"action":"rebuild","image":"`+w.alpha.image+`","name":"again","metadata":{"new":"1"}}`)
	d := decode[ServerResponse](t, raw).Server
	if resp.StatusCode != http.StatusAccepted || d.Status != "REBUILD" || d.TaskState != fsm.TaskRebuilding || d.Name != "again" ||
		!maps.Equal(d.Metadata, map[string]string{"new": "1"}) {
		t.Fatalf("rebuild = %d %s", resp.StatusCode, raw)
	}
	resp, raw = w.as(t, member, "POST", action, `{"action":"rebuild","image":"`+w.alpha.image+`"}`)
	wantError(t, resp, raw, 409, "Cannot 'rebuild' instance")

	// Ops, as a module calls it: the lock refuses a member.
	ops := w.srv.Ops()
	w.c.MustApply(t, &fsm.LockInstance{ID: w.beta.server, ProjectID: w.beta.project, Time: time.Now().UTC()})
	if _, _, err := ops.RebuildServer(w.ctxOf(t, betaUser), w.beta.server, ServerRebuild{Image: w.beta.image}); StatusOf(err) != 409 {
		t.Errorf("rebuild of a locked server: %v", err)
	}
	if _, d, err := ops.RebuildServer(w.adminCtx(t), w.beta.server, ServerRebuild{Image: w.beta.image}); err != nil || d.Status != "REBUILD" {
		t.Errorf("admin's rebuild of a locked server: %v %+v", err, d)
	}
}
