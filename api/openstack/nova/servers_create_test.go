package nova_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// TestServerCreateOptions: what a Nova create body asks reaches the
// servers (name-N for several, key, user data, config drive, zone, groups,
// the default network by either spelling), and return_reservation_id
// answers with the reservation instead of the server.
func TestServerCreateOptions(t *testing.T) {
	e := newServersEnv(t)
	e.Apply(t, &fsm.CreateKeyPair{KeyPair: fsm.KeyPair{Name: "k", UserID: e.alpha.UserID, ProjectID: e.alpha.ProjectID,
		PublicKey: "ssh-ed25519 AAAA k", Fingerprint: "f", Type: "ssh", Created: apitest.SeedTime}})

	status, raw := e.call(t, "POST", "/servers", `{"server":{"name":"many","imageRef":"`+apitest.CirrosID+`","flavorRef":"1",
		"min_count":"1","max_count":3,"key_name":"k","user_data":"I2Nsb3VkLWNvbmZpZwo=","config_drive":"true",
		"availability_zone":"nova","networks":[{"uuid":"default"}],"metadata":{"a b":"c"},"adminPass":"secret",
		"OS-DCF:diskConfig":"AUTO"}}`, e.alpha.Token)
	if status != 202 {
		t.Fatalf("create: %d %s", status, raw)
	}
	var created struct {
		Server struct {
			ID, AdminPass string
		}
	}
	decode(t, raw, &created)
	if created.Server.AdminPass != "secret" {
		t.Errorf("adminPass %q, want the one given", created.Server.AdminPass)
	}
	insts := e.FSM.Instances(fsm.InProject(e.alpha.ProjectID))
	var names []string
	for _, i := range insts {
		names = append(names, i.Name)
		if i.KeyName != "k" || i.KeyData == "" || i.UserData == "" || !i.ConfigDrive || i.AvailabilityZone != "nova" ||
			i.Metadata["a b"] != "c" {
			t.Errorf("server %+v", i)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"many-1", "many-2", "many-3"}) {
		t.Errorf("names %v", names)
	}
	_, raw = e.call(t, "GET", "/servers/"+created.Server.ID, "", e.alpha.Token)
	var shown struct{ Server map[string]any }
	decode(t, raw, &shown)
	if shown.Server["key_name"] != "k" || shown.Server["config_drive"] != "True" {
		t.Errorf("shown %s", raw)
	}

	status, raw = e.call(t, "POST", "/servers", `{"server":{"name":"r","imageRef":"`+apitest.CirrosID+`","flavorRef":"1",
		"return_reservation_id":true}}`, e.alpha.Token)
	var reservation map[string]json.RawMessage
	decode(t, raw, &reservation)
	var id string
	if status != 202 || len(reservation) != 1 || json.Unmarshal(reservation["reservation_id"], &id) != nil ||
		!regexp.MustCompile(`^r-[0-9a-f]{8}$`).MatchString(id) {
		t.Errorf("reservation: %d %s", status, raw)
	}
	// The reservation finds the servers that create made, and only them
	// (Tempest lists a multi-create's servers by it).
	for query, want := range map[string][]string{"?reservation_id=" + id: {"r"}, "?reservation_id=r-00000000": nil} {
		if status, got, msg := e.list(t, query, e.alpha.Token); status != 200 || !slices.Equal(got.names, want) {
			t.Errorf("list %s: %d %v %s, want %v", query, status, got.names, msg, want)
		}
	}

	// Over quota is Nova's 403 with fsm's (Nova's) words.
	one := 1
	e.Apply(t, &fsm.SetQuota{ProjectID: e.beta.ProjectID, Quota: fsm.QuotaOverride{Instances: &one}})
	status, raw = e.call(t, "POST", "/servers", `{"server":{"name":"q","imageRef":"`+apitest.CirrosID+`","flavorRef":"1",
		"max_count":2}}`, e.beta.Token)
	name, _, msg := fault(t, raw)
	if status != 403 || name != "forbidden" || msg != "Quota exceeded for instances: Requested 2, but already used 0 of 1 instances" {
		t.Errorf("over quota: %d %s", status, raw)
	}
}
