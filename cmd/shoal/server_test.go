package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		in      []string
		want    map[string]string
		wantErr string
	}{
		{nil, nil, ""},
		{[]string{"a=1"}, map[string]string{"a": "1"}, ""},
		{[]string{"a=1", "b=x,y"}, map[string]string{"a": "1", "b": "x,y"}, ""},
		{[]string{"a="}, map[string]string{"a": ""}, ""},
		{[]string{"url=http://h/?q=1"}, map[string]string{"url": "http://h/?q=1"}, ""},
		{[]string{"a = b "}, map[string]string{"a ": " b "}, ""},
		{[]string{"a"}, nil, "KEY=VALUE"},
		{[]string{"=v"}, nil, "empty key"},
		{[]string{"a=1", "a=2"}, nil, "twice"},
	}
	for _, tt := range tests {
		got, err := parseProperties(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseProperties(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseProperties(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

var (
	testCreated = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	testServer  = api.ServerDetail{
		ID: "6f1c", Name: "vm1", Status: "ACTIVE", Host: "n2",
		Flavor: fsm.FlavorSpec{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1},
		Image:  api.ImageRef{ID: "img-1", Name: "cirros"},
		Addresses: []api.ServerAddress{
			{Address: fsm.Address{Network: "default", IP: "10.88.0.5", MAC: "fa:16:3e:00:00:01"}, Type: api.AddressFixed}},
		SecurityGroups: []api.SecurityGroupRef{{Name: "default"}, {Name: "web"}},
		VMState:        fsm.VMActive, PowerState: fsm.PowerRunning, Created: testCreated, Updated: testCreated,
		Metadata: map[string]string{"role": "web", "env": "prod"}, AvailabilityZone: "nova",
	}
)

func TestPrintComputeTables(t *testing.T) {
	building := api.ServerDetail{ID: "7a2d", Name: "vm2", Status: "ERROR", Image: api.ImageRef{ID: "img-2"},
		Flavor: fsm.FlavorSpec{Name: "m1.small"}, VMState: fsm.VMError,
		Addresses: []api.ServerAddress{{Address: fsm.Address{Network: "default", IP: "10.88.0.6"}, Type: api.AddressFixed},
			{Address: fsm.Address{Network: "default", IP: "10.88.0.7"}, Type: api.AddressFixed},
			{Address: fsm.Address{Network: "ext", IP: "192.0.2.9"}, Type: api.AddressFixed}},
		Fault: &api.Fault{Code: 500, Message: "No valid host was found"}}
	image := fsm.Image{ID: "img-1", Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare", Size: 1024, Status: "active",
		Locations: []string{"n1", "n2"}, MinRAM: 64, Properties: map[string]string{"os": "cirros"}, Created: testCreated, Updated: testCreated}
	group := fsm.ServerGroup{ID: "g1", Name: "spread", Policy: "anti-affinity", Members: []string{"6f1c", "7a2d"}, Created: testCreated}
	floating := testServer
	floating.Addresses = append(slices.Clone(floating.Addresses),
		api.ServerAddress{Address: fsm.Address{Network: "default", IP: "10.66.0.200", MAC: "fa:16:3e:00:00:01"}, Type: api.AddressFloating})
	hv := api.Hypervisor{Name: "n1", State: "up", Status: "enabled", HypervisorType: "QEMU", HypervisorVersion: "8.2.2",
		VCPUs: 8, VCPUsUsed: 2, MemoryMiB: 16384, MemoryMiBUsed: 1024, FreeRAMMiB: 15360, DiskGiB: 100, DiskGiBUsed: 2, FreeDiskGiB: 98, RunningVMs: 2}
	tests := []printCase{
		{"servers", func(o *output) error { return printServers(o, []api.ServerDetail{testServer, building}) }, `
ID    NAME  STATUS  HOST  NETWORKS                                     FLAVOR    IMAGE
6f1c  vm1   ACTIVE  n2    default=10.88.0.5                            m1.tiny   cirros
7a2d  vm2   ERROR   -     default=10.88.0.6, 10.88.0.7; ext=192.0.2.9  m1.small  img-2
`},
		{"server", func(o *output) error { return printServer(o, testServer) }, `
FIELD              VALUE
id                 6f1c
name               vm1
status             ACTIVE
host               n2
vm_state           active
task_state         -
power_state        Running
flavor             m1.tiny (1: 1 vCPU, 512 MiB, 1 GiB)
image              cirros (img-1)
addresses          default=10.88.0.5 (fa:16:3e:00:00:01)
availability_zone  nova
server_group       -
security_groups    default, web
ha                 -
key_name           -
config_drive       -
metadata           env='prod', role='web'
fault              -
created            2025-01-02T03:04:05Z
updated            2025-01-02T03:04:05Z
`},
		{"floating address", func(o *output) error { return printServers(o, []api.ServerDetail{floating}) }, `
ID    NAME  STATUS  HOST  NETWORKS                        FLAVOR   IMAGE
6f1c  vm1   ACTIVE  n2    default=10.88.0.5, 10.66.0.200  m1.tiny  cirros
`},
		{"actions", func(o *output) error {
			return printActions(o, []fsm.Action{
				{RequestID: "req-2", Action: "stop", Start: testCreated},
				{RequestID: "req-1", Action: "create", Start: testCreated, Finish: testCreated, Result: "error", Message: "disk\nfull"},
			})
		}, `
REQUEST  ACTION  START                 FINISH                RESULT  MESSAGE
req-2    stop    2025-01-02T03:04:05Z  -                     -       -
req-1    create  2025-01-02T03:04:05Z  2025-01-02T03:04:05Z  error   disk full
`},
		{"images", func(o *output) error { return printImages(o, []fsm.Image{image}) }, `
ID     NAME    STATUS  DISK FORMAT  CONTAINER FORMAT  SIZE
img-1  cirros  active  qcow2        bare              1024
`},
		{"image", func(o *output) error { return printImage(o, image) }, `
FIELD             VALUE
id                img-1
name              cirros
status            active
disk_format       qcow2
container_format  bare
size              1024
checksum          -
locations         n1, n2
min_ram           64 MiB
min_disk          0 GiB
properties        os='cirros'
created           2025-01-02T03:04:05Z
updated           2025-01-02T03:04:05Z
`},
		{"groups", func(o *output) error { return printGroups(o, []fsm.ServerGroup{group}) }, `
ID  NAME    POLICY         MEMBERS
g1  spread  anti-affinity  6f1c, 7a2d
`},
		{"hypervisors", func(o *output) error { return printHypervisors(o, []api.Hypervisor{hv}) }, `
NAME  TYPE        STATE  STATUS   VCPUS(used/total)  MEMORY(used/total MiB)  DISK(used/total GiB)  VMS
n1    QEMU 8.2.2  up     enabled  2/8                1024/16384              2/100                 2
`},
		{"stats", func(o *output) error {
			return printHypervisorStats(o, api.HypervisorStatistics{Count: 1, VCPUs: 8, VCPUsUsed: 2, MemoryMiB: 16384,
				MemoryMiBUsed: 1024, FreeRAMMiB: 15360, DiskGiB: 100, DiskGiBUsed: 2, FreeDiskGiB: 98, RunningVMs: 2})
		}, `
FIELD        VALUE
count        1
vcpus        2/8 used
memory       1024/16384 MiB used, 15360 free
disk         2/100 GiB used, 98 free
running_vms  2
`},
	}
	checkPrints(t, tests)
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		s    api.ServerDetail
		want string
	}{
		{api.ServerDetail{Name: "vm1", Status: "BUILD", TaskState: "scheduling"}, "vm1: BUILD (scheduling)"},
		{api.ServerDetail{Name: "vm1", Status: "BUILD", TaskState: "spawning", Host: "n2",
			Addresses: testServer.Addresses}, "vm1: BUILD (spawning) on n2"},
		{testServer, "vm1: ACTIVE on n2 10.88.0.5"},
		{api.ServerDetail{Name: "vm1", Status: "ERROR", Fault: &api.Fault{Message: "No valid host was found"}}, "vm1: ERROR: No valid host was found"},
		{api.ServerDetail{Name: "vm1", Status: "ERROR", Host: "n3"}, "vm1: ERROR on n3: no fault recorded"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.s); got != tt.want {
			t.Errorf("progressLine = %q, want %q", got, tt.want)
		}
	}
}

// cannedAPI answers a create with BUILD servers, then walks each server
// through states, one per GET.
type cannedAPI struct {
	mu      sync.Mutex
	created string // the create request body
	steps   map[string][]api.ServerDetail
	gets    map[string]int
}

func (a *cannedAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/servers", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.created = string(b)
		var first []api.ServerDetail
		for _, id := range []string{"id-1", "id-2"} {
			if steps, ok := a.steps[id]; ok {
				first = append(first, steps[0])
			}
		}
		a.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		if len(first) == 1 {
			json.NewEncoder(w).Encode(api.ServerResponse{Server: first[0]})
			return
		}
		json.NewEncoder(w).Encode(api.ServerList{Servers: first})
	})
	mux.HandleFunc("GET /v1/servers/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		id := r.PathValue("id")
		steps, ok := a.steps[id]
		var k int
		if ok {
			a.gets[id]++
			k = min(a.gets[id], len(steps)-1)
		}
		if !ok || steps[k].ID == "" { // a zero step: the server is gone
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: 404, Kind: "not_found", Message: "not found: server " + id}})
			return
		}
		json.NewEncoder(w).Encode(api.ServerResponse{Server: steps[k]})
	})
	return mux
}

func runCLI(t *testing.T, h http.Handler, args string) (stdout, stderr string, err error) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = app.Run(reorderArgs(app, strings.Fields("shoal --addr "+ts.URL+" "+args)))
	return out.String(), errOut.String(), err
}

func shortWait(t *testing.T) {
	old := waitInterval
	waitInterval = 10 * time.Millisecond
	t.Cleanup(func() { waitInterval = old })
}

func TestServerCreateWait(t *testing.T) {
	shortWait(t)
	build := func(id, name, task, host string) api.ServerDetail {
		return api.ServerDetail{ID: id, Name: name, Status: "BUILD", TaskState: task, Host: host, Addresses: testServer.Addresses}
	}
	active := testServer
	active.ID = "id-1"
	canned := &cannedAPI{gets: map[string]int{}, steps: map[string][]api.ServerDetail{"id-1": {
		build("id-1", "vm1", "scheduling", ""),
		build("id-1", "vm1", "scheduling", ""),
		build("id-1", "vm1", "spawning", "n2"),
		active,
	}}}
	out, _, err := runCLI(t, canned.handler(), "server create vm1 --flavor m1.tiny --image cirros --property role=web --property note=a,b --availability-zone nova:n2 --wait")
	if err != nil {
		t.Fatalf("create --wait: %v\n%s", err, out)
	}
	if want := `{"server":{"name":"vm1","flavor":"m1.tiny","image":"cirros","availability_zone":"nova:n2","metadata":{"note":"a,b","role":"web"},"count":1}}`; canned.created != want {
		t.Errorf("sent %s\nwant %s", canned.created, want)
	}
	if want := "vm1: BUILD (scheduling)\nvm1: BUILD (spawning) on n2\nvm1: ACTIVE on n2 10.88.0.5\n"; out != want {
		t.Errorf("printed\n%s\nwant\n%s", out, want)
	}

	// JSON: progress goes to stderr, stdout is the final server.
	canned.gets = map[string]int{}
	out, errOut, err := runCLI(t, canned.handler(), "server create vm1 --flavor 1 --image cirros --wait -o json")
	var resp api.ServerResponse
	if err != nil || json.Unmarshal([]byte(out), &resp) != nil || resp.Server.Status != "ACTIVE" {
		t.Fatalf("create --wait -o json: %v\n%s", err, out)
	}
	if !strings.HasSuffix(errOut, "vm1: ACTIVE on n2 10.88.0.5\n") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestServerCreateWaitError(t *testing.T) {
	shortWait(t)
	failed := api.ServerDetail{ID: "id-2", Name: "big-2", Status: "ERROR", VMState: fsm.VMError,
		Fault: &api.Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available."}}
	ok := testServer
	ok.ID, ok.Name = "id-1", "big-1"
	canned := &cannedAPI{gets: map[string]int{}, steps: map[string][]api.ServerDetail{
		"id-1": {{ID: "id-1", Name: "big-1", Status: "BUILD", TaskState: "scheduling"}, ok},
		"id-2": {{ID: "id-2", Name: "big-2", Status: "BUILD", TaskState: "scheduling"}, failed},
	}}
	out, _, err := runCLI(t, canned.handler(), "server create big --flavor huge --image cirros --count 2 --wait")
	if err == nil || !strings.Contains(err.Error(), "big-2: No valid host was found") || strings.Contains(err.Error(), "big-1") {
		t.Fatalf("create --wait error = %v", err)
	}
	if !strings.Contains(canned.created, `"count":2`) {
		t.Errorf("sent %s", canned.created)
	}
	for _, line := range []string{"big-1: BUILD (scheduling)\n", "big-2: BUILD (scheduling)\n", "big-1: ACTIVE on n2 10.88.0.5\n",
		"big-2: ERROR: No valid host was found. There are not enough hosts available.\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	// The server disappears while waited for.
	canned.gets = map[string]int{}
	delete(canned.steps, "id-2")
	canned.steps["id-1"] = []api.ServerDetail{{ID: "id-1", Name: "gone", Status: "BUILD", TaskState: "scheduling"}, {}}
	if _, _, err := runCLI(t, canned.handler(), "server create gone --flavor 1 --image cirros --wait"); err == nil || !strings.Contains(err.Error(), "deleted while waiting") {
		t.Errorf("vanished server: %v", err)
	}
	if _, _, err := runCLI(t, canned.handler(), "server create x --flavor 1 --image i --count 0"); err == nil || !strings.Contains(err.Error(), "--count") {
		t.Errorf("count 0: %v", err)
	}
	if _, _, err := runCLI(t, canned.handler(), "server create x --flavor 1 --image i --property novalue"); err == nil || !strings.Contains(err.Error(), "KEY=VALUE") {
		t.Errorf("bad property: %v", err)
	}
}

// cliRunner runs CLI command lines against h; a failing one ends the test.
func cliRunner(t *testing.T, h http.Handler) func(args string) string {
	return func(args string) string {
		t.Helper()
		out, errOut, err := runCLI(t, h, args)
		if err != nil {
			t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
		}
		return out
	}
}

// printedAll checks that a command's output holds every wanted string.
func printedAll(t *testing.T) func(what, out string, want ...string) {
	return func(what, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s printed\n%s\nwant %q in it", what, out, w)
			}
		}
	}
}
