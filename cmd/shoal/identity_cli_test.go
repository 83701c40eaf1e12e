package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// newIdentityNode is one in-process API bootstrapped with the test identity.
func newIdentityNode(t *testing.T) http.Handler {
	t.Helper()
	n := &oneNode{fsmtest.New()}
	n.MustApply(t, identitytest.Bootstrap("c1")...)
	return api.New(api.Config{State: n.FSM, Cluster: n, NodeName: "n1", Auth: api.Auth{Signer: identitytest.Signer}}).Handler()
}

// runAdmin runs one command as the bootstrap admin, stdin given.
func runAdmin(t *testing.T, addr, stdin, args string) (string, string, error) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter, app.Reader = &out, &errOut, strings.NewReader(stdin)
	err := app.Run(reorderArgs(app, strings.Fields("shoal --addr "+addr+" --token "+identitytest.AdminToken+" "+args)))
	return out.String(), errOut.String(), err
}

// TestIdentityCommands drives project, user and role commands against the
// real API, as the openstack CLI's users type them.
func TestIdentityCommands(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	ts := httptest.NewServer(newIdentityNode(t))
	t.Cleanup(ts.Close)
	run := func(args string) string {
		t.Helper()
		out, errOut, err := runAdmin(t, ts.URL, "", args)
		if err != nil {
			t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
		}
		return out
	}

	if out := run("project create demo --description demo"); !strings.Contains(out, "name         demo\n") || !strings.Contains(out, "enabled      yes\n") {
		t.Errorf("project create printed\n%s", out)
	}
	var created struct{ User client.User }
	pw := "s3cret-from-stdin"
	out, errOut, err := runAdmin(t, ts.URL, pw+"\n", "user create alice --project demo --password-prompt -o json")
	if err != nil || json.Unmarshal([]byte(out), &created) != nil || created.User.Name != "alice" || created.User.DefaultProjectID == "" {
		t.Fatalf("user create: %v\n%s%s", err, out, errOut)
	}
	if strings.Contains(out+errOut, pw) {
		t.Errorf("user create printed the password:\n%s%s", out, errOut)
	}
	if out := run("role add --project demo --user alice member"); out != "added role member: user alice on project demo\n" {
		t.Errorf("role add printed %q", out)
	}
	out = run("role assignment list --project demo")
	if !strings.Contains(out, identitytest.MemberRoleID+"  "+created.User.ID) {
		t.Errorf("role assignment list printed\n%s", out)
	}
	if out := run("user set alice --disable"); !strings.Contains(out, "enabled             no\n") {
		t.Errorf("user set --disable printed\n%s", out)
	}
	if out := run("project list"); !strings.Contains(out, "admin") || !strings.Contains(out, "demo") {
		t.Errorf("project list printed\n%s", out)
	}
	if out := run("role list -o json"); !strings.Contains(out, `"roles": [`) || !strings.Contains(out, `"name": "reader"`) {
		t.Errorf("role list -o json printed\n%s", out)
	}
	run("role remove --project demo --user alice member")
	if out := run("user delete alice"); out != "deleted user alice\n" {
		t.Errorf("user delete printed %q", out)
	}
	run("project delete demo")

	for _, tt := range []struct{ args, want string }{
		{"project show demo", "no project"},
		{"user set admin --enable --disable", "exclude each other"},
		{"role add --project admin --user admin nope", "no role"},
		{"quota set admin", "at least one limit"},
	} {
		if _, _, err := runAdmin(t, ts.URL, "", tt.args); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shoal %s: %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestPrintQuotaAndLimits: the tables name Nova's fields; -o json is Nova's
// shape, an empty rate list included.
func TestPrintQuotaAndLimits(t *testing.T) {
	q := client.QuotaSet{ID: "p1"}
	q.Instances, q.Cores, q.RAM, q.ServerGroups, q.ServerGroupMembers, q.KeyPairs, q.FloatingIPs = 2, 20, 51200, 10, 10, -1, 10
	l := client.Limits{Absolute: client.AbsoluteLimits{MaxTotalInstances: 2, TotalInstancesUsed: 1, MaxTotalRAMSize: 51200, TotalRAMUsed: 512,
		MaxTotalFloatingIPs: 10, TotalFloatingIPsUsed: 3}}
	tests := []struct {
		name  string
		json  bool
		print func(*output) error
		want  string
	}{
		{"quota", false, func(o *output) error { return printQuota(o, q) }, `FIELD                 VALUE
project               p1
instances             2
cores                 20
ram                   51200
server_groups         10
server_group_members  10
key_pairs             -1
floating_ips          10
`},
		{"quota json", true, func(o *output) error { return printQuota(o, q) }, `{
  "quota_set": {
    "id": "p1",
    "instances": 2,
    "cores": 20,
    "ram": 51200,
    "server_groups": 10,
    "server_group_members": 10,
    "key_pairs": -1,
    "floating_ips": 10,
    "metadata_items": 0,
    "fixed_ips": 0,
    "injected_files": 0,
    "injected_file_content_bytes": 0,
    "injected_file_path_bytes": 0,
    "security_groups": 0,
    "security_group_rules": 0
  }
}
`},
		{"limits", false, func(o *output) error { return printLimits(o, l) }, `NAME                   VALUE
maxTotalInstances      2
maxTotalCores          0
maxTotalRAMSize        51200
maxServerGroups        0
maxServerGroupMembers  0
maxTotalKeypairs       0
maxTotalFloatingIps    10
totalInstancesUsed     1
totalCoresUsed         0
totalRAMUsed           512
totalServerGroupsUsed  0
totalFloatingIpsUsed   3
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.print(&output{w: &b, json: tt.json}); err != nil || b.String() != tt.want {
				t.Errorf("printed (%v)\n%s\nwant\n%s", err, b.String(), tt.want)
			}
		})
	}
	var b bytes.Buffer
	if err := printLimits(&output{w: &b, json: true}, l); err != nil || !strings.Contains(b.String(), `"rate": []`) || !strings.Contains(b.String(), `"maxTotalInstances": 2`) {
		t.Errorf("limits -o json printed %v\n%s", err, b.String())
	}
}
