package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// serverBody is a create request of one server from cirros with extra fields.
func serverBody(t *testing.T, extra map[string]any) string {
	t.Helper()
	s := map[string]any{"name": "vm", "flavor": "m1.tiny", "image": "cirros"}
	for k, v := range extra {
		s[k] = v
	}
	b, err := json.Marshal(map[string]any{"server": s})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A server takes the caller's keypair (its key copied, as Nova), user data,
// metadata and a config drive; show reports key_name and config_drive in
// Nova's shapes, and deleting the keypair later changes nothing.
func TestServerBootData(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	kp := testKeyPair(t, m.UserID, "laptop", 1)
	c.MustApply(t, &fsm.CreateKeyPair{KeyPair: kp})
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hello from user data\n"))
	resp, raw := call(t, ts, "POST", "/v1/servers", serverBody(t, map[string]any{"key_name": "laptop", "user_data": userData,
		"metadata": map[string]string{"role": "web"}, "config_drive": true}), HeaderAuthToken, m.Token)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	vm := decode[ServerResponse](t, raw).Server
	if vm.KeyName != "laptop" || vm.ConfigDrive != "True" || !reflect.DeepEqual(vm.Metadata, map[string]string{"role": "web"}) {
		t.Errorf("created key_name %q, config_drive %q, metadata %v", vm.KeyName, vm.ConfigDrive, vm.Metadata)
	}
	if strings.Contains(string(raw), userData) {
		t.Error("the server's view shows its user data")
	}
	c.MustApply(t, &fsm.DeleteKeyPair{UserID: m.UserID, Name: "laptop"})
	inst, err := c.FSM.Instance(vm.ID)
	if err != nil || inst.KeyName != "laptop" || inst.KeyData != kp.PublicKey || inst.UserData != userData || !inst.ConfigDrive {
		t.Errorf("stored server: %+v, %v", inst, err)
	}
	_, raw = call(t, ts, "GET", "/v1/servers/"+vm.ID, "", HeaderAuthToken, m.Token)
	if got := decode[map[string]map[string]any](t, raw)["server"]; got["key_name"] != "laptop" || got["config_drive"] != "True" {
		t.Errorf("show: key_name %v, config_drive %v", got["key_name"], got["config_drive"])
	}

	// Without them: Nova's empty values.
	_, raw = call(t, ts, "POST", "/v1/servers", serverBody(t, nil), HeaderAuthToken, m.Token)
	if got := decode[map[string]map[string]any](t, raw)["server"]; got["key_name"] != "" || got["config_drive"] != "" {
		t.Errorf("plain server: key_name %v, config_drive %v", got["key_name"], got["config_drive"])
	}
}

// Bad boot data is a 400 and creates nothing.
func TestServerBootDataRefused(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	other := c.addTenant(t, "alpha", fsm.RoleReader)
	c.MustApply(t, &fsm.CreateKeyPair{KeyPair: testKeyPair(t, other.UserID, "theirs", 1)})
	for _, tc := range []struct {
		name     string
		extra    map[string]any
		contains string
	}{
		{"unknown key", map[string]any{"key_name": "nope"}, "Invalid key_name provided."},
		{"another user's key", map[string]any{"key_name": "theirs"}, "Invalid key_name provided."},
		{"user data not base64", map[string]any{"user_data": "#!/bin/sh\necho hi"}, "not valid base64"},
		{"user data too long", map[string]any{"user_data": strings.Repeat("AAAA", 16384)}, "at most 65535"},
		{"user data not a string", map[string]any{"user_data": 7}, "user_data"},
		{"config drive not a boolean", map[string]any{"config_drive": "yes"}, "config_drive"},
		{"metadata too long", map[string]any{"metadata": map[string]string{"k": strings.Repeat("v", 256)}}, "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.snapshot()
			resp, raw := call(t, ts, "POST", "/v1/servers", serverBody(t, tc.extra), HeaderAuthToken, m.Token)
			wantError(t, resp, raw, http.StatusBadRequest, tc.contains)
			if after := c.snapshot(); !reflect.DeepEqual(after, before) {
				t.Error("a refused create changed the state")
			}
		})
	}
}

// A create's servers each copy the boot data and are proposed in one Raft
// entry: count × user_data (with the metadata) beyond fsm.MaxEntrySize is
// a 400 naming the count and the fix, before anything is proposed, on any
// node; the same user data on fewer servers is fine.
func TestServerBootDataOverOneEntry(t *testing.T) {
	c, ts := newTestServer(t)
	c.seedCompute(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	// Valid base64 that JSON doubles: each line break is two bytes there.
	wrapped := "QUJD" + strings.Repeat("\n", fsm.MaxUserDataLen-4)
	plain := strings.Repeat("QUJD", fsm.MaxUserDataLen/4)
	fullMeta := map[string]string{}
	for k := range 128 {
		fullMeta[fmt.Sprintf("%03d%s", k, strings.Repeat("k", 252))] = strings.Repeat("v", 255)
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
	}{
		{"user data with line breaks", map[string]any{"count": 100, "user_data": wrapped}},
		{"user data and metadata", map[string]any{"count": 100, "user_data": plain, "metadata": fullMeta}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.snapshot()
			resp, raw := call(t, ts, "POST", "/v1/servers", serverBody(t, tc.extra), HeaderAuthToken, m.Token)
			wantError(t, resp, raw, http.StatusBadRequest, "100 servers, each with its own copy")
			wantError(t, resp, raw, http.StatusBadRequest, "create fewer servers at a time")
			if after := c.snapshot(); !reflect.DeepEqual(after, before) {
				t.Error("a refused create changed the state")
			}
		})
	}
	resp, raw := call(t, ts, "POST", "/v1/servers", serverBody(t, map[string]any{"count": 2, "user_data": wrapped}),
		HeaderAuthToken, m.Token)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("two servers with the same user data = %d %s", resp.StatusCode, raw)
	}
}
