package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

var testMembers = []api.Member{
	{Name: "node1", Address: "10.0.0.1:7946", Status: "alive", Role: "leader", Inventory: fsm.Inventory{
		VCPUs: 8, VCPUsFree: 6, MemoryMiB: 16384, MemoryFreeMiB: 8192, DiskGiB: 100, DiskFreeGiB: 80,
		HypervisorType: "qemu", HypervisorVersion: "8.2.2", Zone: "nova", Instances: 2, AgentVersion: "0.1.0"}},
	{Name: "node2", Address: "10.0.0.2:7946", Status: "dead", Role: "none"},
}

// printCase is one printer and what it must write; want starts with a
// newline, for readability.
type printCase struct {
	name  string
	print func(o *output) error
	want  string
}

func checkPrints(t *testing.T, tests []printCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.print(&output{w: &buf}); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.String(), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestPrintTables(t *testing.T) {
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	flavor := fsm.Flavor{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1, Created: created, Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 3}}
	hosts := []api.Host{
		{Host: fsm.Host{Name: "node1", HTTPAddress: "10.0.0.1:8774", Enabled: true}, State: "up", Status: "enabled"},
		{Host: fsm.Host{Name: "node2", HTTPAddress: "10.0.0.2:8774", DisabledReason: "disk\tswap"}, State: "down", Status: "disabled"},
	}
	tests := []printCase{
		{"members", func(o *output) error { return printMembers(o, testMembers) }, `
NAME   ADDRESS        STATUS  ROLE    FENCED  VCPUS(free/total)  MEMORY(free/total MiB)  DISK(free/total GiB)  ZONE  HYPERVISOR  INSTANCES  VERSION
node1  10.0.0.1:7946  alive   leader  no      6/8                8192/16384              80/100                nova  qemu 8.2.2  2          0.1.0
node2  10.0.0.2:7946  dead    none    no      0/0                0/0                     0/0                   -     -           0          -
`},
		{"flavors", func(o *output) error { return printFlavors(o, []fsm.Flavor{flavor}) }, `
ID  NAME     VCPUS  RAM  DISK
1   m1.tiny  1      512  1
`},
		{"flavor", func(o *output) error { return printFlavor(o, flavor) }, `
FIELD         VALUE
id            1
name          m1.tiny
vcpus         1
ram           512 MiB
disk          1 GiB
created       2025-01-02T03:04:05Z
create_index  3
modify_index  3
`},
		{"hosts", func(o *output) error { return printHosts(o, hosts) }, `
NAME   STATE  STATUS    FORCED DOWN  HTTP ADDRESS   REASON
node1  up     enabled   no           10.0.0.1:8774  -
node2  down   disabled  no           10.0.0.2:8774  disk swap
`},
		{"no hosts", func(o *output) error { return printHosts(o, nil) }, `
NAME  STATE  STATUS  FORCED DOWN  HTTP ADDRESS  REASON
`},
	}
	checkPrints(t, tests)
}

// TestCommandsAgainstAPI runs commands in-process against a canned API and
// checks what they send and print.
func TestCommandsAgainstAPI(t *testing.T) {
	var gotBody string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/cluster/members", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.MemberList{Members: testMembers})
	})
	mux.HandleFunc("POST /v1/flavors", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(api.FlavorResponse{Flavor: fsm.Flavor{ID: "t-2", Name: "tiny2", VCPUs: 2, RAM: 256}})
	})
	mux.HandleFunc("DELETE /v1/cluster/join-tokens/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: 409, Kind: "conflict", Message: "conflict: token " + r.PathValue("id") + " is busy"}})
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)

	run := func(args string) (string, error) {
		app := newApp()
		var out bytes.Buffer
		app.Writer = &out
		err := app.Run(reorderArgs(app, strings.Fields("shoal --addr "+ts.URL+" "+args)))
		return out.String(), err
	}

	out, err := run("members -o json")
	if err != nil {
		t.Fatal(err)
	}
	var members api.MemberList
	if err := json.Unmarshal([]byte(out), &members); err != nil || !reflect.DeepEqual(members.Members, testMembers) {
		t.Errorf("members -o json = %s (%v)", out, err)
	}

	out, err = run("flavor create tiny2 --vcpus 2 --id t-2")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"flavor":{"id":"t-2","name":"tiny2","vcpus":2,"ram":256,"disk":0}}`; gotBody != want {
		t.Errorf("sent %s, want %s", gotBody, want)
	}
	if !strings.Contains(out, "name          tiny2\n") {
		t.Errorf("flavor create printed\n%s", out)
	}

	if _, err := run("cluster join-token revoke t1"); !errors.Is(err, fsm.ErrConflict) || err.Error() != "HTTP 409: conflict: token t1 is busy" {
		t.Errorf("revoke error = %v", err)
	}
	if _, err := run("-o yaml members"); err == nil || !strings.Contains(err.Error(), "yaml") {
		t.Errorf("bad -o: %v", err)
	}
	if _, err := run("flavor show"); err == nil || !strings.Contains(err.Error(), "usage: shoal flavor show REF") {
		t.Errorf("missing REF: %v", err)
	}
}

// TestPrintJSON: JSON output is the API's body, wrapped as the API wraps it,
// with empty lists as [] (never null).
func TestPrintJSON(t *testing.T) {
	tests := []struct {
		name  string
		print func(o *output) error
		want  []string
	}{
		{"no flavors", func(o *output) error { return printFlavors(o, nil) }, []string{"{\n  \"flavors\": []\n}\n"}},
		{"group without members", func(o *output) error { return printGroup(o, fsm.ServerGroup{ID: "g1"}) },
			[]string{"{\n  \"server_group\": {\n", `"id": "g1"`, `"members": []`}},
		{"host", func(o *output) error { return printHost(o, api.Host{Host: fsm.Host{Name: "n1"}}) },
			[]string{"{\n  \"host\": {\n", `"name": "n1"`}},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		if err := tt.print(&output{w: &buf, json: true}); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, want := range tt.want {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("%s: got\n%s\nwant it to contain %q", tt.name, buf.String(), want)
			}
		}
	}
}

// TestArgumentErrors: every command checks its arguments before it sends
// anything, and says how it is called.
func TestArgumentErrors(t *testing.T) {
	refuse := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s sent despite wrong arguments", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	})
	tests := []struct{ args, want string }{
		{"members x", "members takes no arguments (usage: shoal members)"},
		{"hypervisor stats x", "hypervisor stats takes no arguments (usage: shoal hypervisor stats)"},
		{"server list x", "server list takes no arguments (usage: shoal server list)"},
		{"join", "join needs --token TOKEN (usage: shoal join [PEER...])"},
		{"cluster join-token revoke", "cluster join-token revoke needs one join token ID (usage: shoal cluster join-token revoke ID)"},
		{"cluster join-token list x", "cluster join-token list takes no arguments (usage: shoal cluster join-token list)"},
		{"cluster join-token create x", "cluster join-token create takes no arguments (usage: shoal cluster join-token create)"},
		{"cluster join-token create --ttl 0s", "--ttl must be a positive duration such as 1h or 30m (usage: shoal cluster join-token create)"},
		{"cluster join-token create --uses 0", "--uses must be at least 1 (usage: shoal cluster join-token create)"},
		{"cluster gossip-key rotate now", "cluster gossip-key rotate takes no arguments (usage: shoal cluster gossip-key rotate)"},
		{"flavor show a b", "flavor show needs one flavor ID or name (usage: shoal flavor show REF)"},
		{"server-group delete", "server-group delete needs one group ID or name (usage: shoal server-group delete GROUP)"},
		{"image create", "image create needs one NAME (usage: shoal image create NAME)"},
		{"host enable", "host enable needs one host NAME (usage: shoal host enable NAME)"},
		{"server actions", "server actions needs one server ID or name (usage: shoal server actions SERVER)"},
		{"server start", "server start needs at least one server ID or name (usage: shoal server start SERVER [SERVER...])"},
		{"-o yaml flavor delete", "flavor delete needs one flavor ID or name (usage: shoal flavor delete REF)"},
		{"-o yaml flavor delete tiny", `unknown output format "yaml" (want table or json)`},
	}
	for _, tt := range tests {
		if _, _, err := runCLI(t, refuse, tt.args); err == nil || err.Error() != tt.want {
			t.Errorf("shoal %s: error %v, want %q", tt.args, err, tt.want)
		}
	}
}
