package api

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

func TestImageCRUD(t *testing.T) {
	c, ts := newTestServer(t)

	resp, raw := call(t, ts, "GET", "/v1/images", "")
	if resp.StatusCode != 200 || strings.TrimSpace(string(raw)) != `{"images":[]}` {
		t.Fatalf("empty list = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "POST", "/v1/images", `{"name":"cirros","disk_format":"qcow2","container_format":"bare",
		"min_ram":64,"min_disk":1,"properties":{"hw_machine_type":"q35","os_distro":"cirros"}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	img := decode[ImageResponse](t, raw).Image
	if _, err := uuid.Parse(img.ID); err != nil {
		t.Errorf("ID %q: %v", img.ID, err)
	}
	want := fsm.Image{
		ID: img.ID, Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare",
		Status: "queued", Locations: []string{}, MinRAM: 64, MinDisk: 1,
		Properties: map[string]string{"hw_machine_type": "q35", "os_distro": "cirros"},
		Created:    img.Created, Updated: img.Created,
		ProjectID: identitytest.AdminProjectID, UserID: identitytest.AdminUserID, Visibility: fsm.ImagePrivate,
		Indexes: fsm.Indexes{CreateIndex: c.FSM.Index(), ModifyIndex: c.FSM.Index()},
	}
	if !reflect.DeepEqual(img, want) {
		t.Errorf("created\n %+v\nwant\n %+v", img, want)
	}
	if time.Since(img.Created) > time.Minute {
		t.Errorf("created = %v", img.Created)
	}
	if resp.Header.Get("Location") != "/v1/images/"+img.ID || indexOf(t, resp) != c.FSM.Index() {
		t.Errorf("Location %q, index %s", resp.Header.Get("Location"), resp.Header.Get(HeaderIndex))
	}

	// Wrapped form with a chosen (upper-case) UUID, normalised.
	resp, raw = call(t, ts, "POST", "/v1/images", `{"image":{"id":"5A0F7D4E-1C2B-4D3E-8F90-0123456789AB","name":"raw disk","disk_format":"raw","container_format":"bare"}}`)
	if got := decode[ImageResponse](t, raw).Image; resp.StatusCode != 201 || got.ID != "5a0f7d4e-1c2b-4d3e-8f90-0123456789ab" {
		t.Fatalf("create wrapped = %d %s", resp.StatusCode, raw)
	}
	for _, ref := range []string{img.ID, "cirros"} {
		resp, raw = call(t, ts, "GET", "/v1/images/"+ref, "")
		if got := decode[ImageResponse](t, raw).Image; resp.StatusCode != 200 || !reflect.DeepEqual(got, img) {
			t.Errorf("show %s = %d %s", ref, resp.StatusCode, raw)
		}
	}
	resp, raw = call(t, ts, "GET", "/v1/images", "")
	if got := decode[ImageList](t, raw).Images; len(got) != 2 || got[0].Name != "cirros" || got[1].Name != "raw disk" {
		t.Errorf("list = %s", raw)
	}
	resp, raw = call(t, ts, "DELETE", "/v1/images/raw%20disk", "")
	if resp.StatusCode != http.StatusNoContent || len(raw) != 0 || indexOf(t, resp) != c.FSM.Index() {
		t.Fatalf("delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/images/raw%20disk", "")
	wantError(t, resp, raw, 404, "raw disk")
}

func TestServerGroupCRUD(t *testing.T) {
	c, ts := newTestServer(t)
	seed := c.seedCompute(t)

	resp, raw := call(t, ts, "POST", "/v1/server-groups", `{"server_group":{"name":"db","policy":"affinity"}}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, raw)
	}
	g := decode[ServerGroupResponse](t, raw).ServerGroup
	if g.Name != "db" || g.Policy != "affinity" || g.Members == nil || len(g.Members) != 0 || g.CreateIndex != c.FSM.Index() {
		t.Errorf("created = %+v", g)
	}
	if !strings.Contains(string(raw), `"members":[]`) || resp.Header.Get("Location") != "/v1/server-groups/"+g.ID {
		t.Errorf("create response %s, Location %q", raw, resp.Header.Get("Location"))
	}
	// Bare form works too.
	if resp, raw = call(t, ts, "POST", "/v1/server-groups", `{"name":"loose","policy":"soft-anti-affinity"}`); resp.StatusCode != 201 {
		t.Fatalf("create bare = %d %s", resp.StatusCode, raw)
	}

	resp, raw = call(t, ts, "POST", "/v1/servers", `{"server":{"name":"db","flavor":"1","image":"cirros","server_group":"db","count":2}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("create servers = %d %s", resp.StatusCode, raw)
	}
	servers := decode[ServerList](t, raw).Servers
	resp, raw = call(t, ts, "GET", "/v1/server-groups/db", "")
	got := decode[ServerGroupResponse](t, raw).ServerGroup
	if resp.StatusCode != 200 || len(got.Members) != 2 || servers[0].ServerGroup != g.ID {
		t.Errorf("show = %d %s", resp.StatusCode, raw)
	}
	// The seeded group was made before identity: only all_projects shows it.
	resp, raw = call(t, ts, "GET", "/v1/server-groups?all_projects=1", "")
	var names []string
	for _, g := range decode[ServerGroupList](t, raw).ServerGroups {
		names = append(names, g.Name)
	}
	if want := []string{"db", "loose", seed.group.Name}; !reflect.DeepEqual(names, want) {
		t.Errorf("list = %q, want %q", names, want)
	}
	resp, raw = call(t, ts, "DELETE", "/v1/server-groups/"+g.ID, "")
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/servers/"+servers[0].ID, "")
	if got := decode[ServerResponse](t, raw).Server; got.ServerGroup != "" {
		t.Errorf("server still in deleted group: %+v", got)
	}
}
