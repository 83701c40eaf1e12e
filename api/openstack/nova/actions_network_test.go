package nova_test

import (
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// TestServerNetworkActions: addFloatingIp/removeFloatingIp and
// addSecurityGroup/removeSecurityGroup answer 202 and show in the server,
// the floating address after the fixed one; the same request once more is
// Nova's 409 or 404.
func TestServerNetworkActions(t *testing.T) {
	e := newServersEnv(t)
	const id = "f1000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	e.SeedExternalNetwork(t)
	e.Apply(t, &fsm.AllocateFloatingIP{ID: "f1000000-0000-4000-8000-0000000000f1", NetworkID: apitest.PublicNetworkID,
		IP: "10.66.0.210", ProjectID: e.alpha.ProjectID, UserID: e.alpha.UserID, Time: apitest.SeedTime},
		&fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: "f1000000-0000-4000-8000-0000000000a1", Name: "web",
			ProjectID: e.alpha.ProjectID, UserID: e.alpha.UserID, Rules: []fsm.SecurityGroupRule{}, Created: apitest.SeedTime}})

	type address struct {
		Addr string `json:"addr"`
		Type string `json:"OS-EXT-IPS:type"`
	}
	show := func() (addrs []address, groups []string) {
		_, raw := e.call(t, "GET", "/servers/"+id, "", e.alpha.Token)
		var body struct {
			Server struct {
				Addresses      map[string][]address
				SecurityGroups []struct{ Name string } `json:"security_groups"`
			}
		}
		decode(t, raw, &body)
		for _, g := range body.Server.SecurityGroups {
			groups = append(groups, g.Name)
		}
		return body.Server.Addresses["default"], groups
	}
	for _, step := range []struct {
		body   string
		status int
		check  func()
	}{
		{`{"addFloatingIp":{"address":"10.66.0.210"}}`, 202, func() {
			if a, _ := show(); len(a) != 2 || a[0].Type != "fixed" || a[1] != (address{"10.66.0.210", "floating"}) {
				t.Errorf("after add: %+v", a)
			}
		}},
		{`{"removeFloatingIp":{"address":"10.66.0.210"}}`, 202, func() {
			if a, _ := show(); len(a) != 1 {
				t.Errorf("after remove: %+v", a)
			}
		}},
		{`{"removeFloatingIp":{"address":"10.66.0.210"}}`, 409, nil},
		{`{"addSecurityGroup":{"name":"web"}}`, 202, func() {
			if _, g := show(); len(g) != 2 {
				t.Errorf("groups after add: %v", g)
			}
		}},
		{`{"removeSecurityGroup":{"name":"web"}}`, 202, func() {
			if _, g := show(); len(g) != 1 || g[0] != "default" {
				t.Errorf("groups after remove: %v", g)
			}
		}},
	} {
		status, raw := e.call(t, "POST", "/servers/"+id+"/action", step.body, e.alpha.Token)
		if status != step.status {
			t.Fatalf("%s: %d %s", step.body, status, raw)
		}
		if step.check != nil {
			step.check()
		}
	}
}
