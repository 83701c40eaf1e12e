package nova_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/attachinterfaces"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// compute is a compute client from the catalog of a login as the tenant
// (or as the admin for an empty one).
func (e *serversEnv) compute(t *testing.T, asAdmin bool) *gophercloud.ServiceClient {
	t.Helper()
	p := e.AdminProvider(t)
	if !asAdmin {
		p = e.TenantProvider(t, e.alpha)
	}
	c, err := openstack.NewComputeV2(p, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// complete reports the server's task done on its host, as the host's
// reconciler would, with the power state it leaves.
func (e *serversEnv) complete(t *testing.T, id string, power fsm.PowerState) {
	t.Helper()
	inst, err := e.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(t, &fsm.ReportInstances{Host: inst.Host, Time: apitest.SeedTime, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: power, Done: inst.TaskState, TaskIndex: inst.TaskIndex}}})
}

// novaFault is the Nova fault of a gophercloud error, or fails t.
func novaFault(t *testing.T, err error, status int) string {
	t.Helper()
	var unexpected gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &unexpected) || unexpected.Actual != status {
		t.Fatalf("error %v, want a %d", err, status)
	}
	name, code, msg := fault(t, unexpected.Body)
	if code != status || name == "" {
		t.Fatalf("fault body %s", unexpected.Body)
	}
	return msg
}

// TestServersThroughGophercloud drives the servers API with gophercloud
// from a Keystone login, as a Go program would.
func TestServersThroughGophercloud(t *testing.T) {
	ctx := context.Background()
	e := newServersEnv(t)
	e.Apply(t, &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "a9000000-0000-4000-8000-000000000001", Name: "g",
		Policy: "anti-affinity", ProjectID: e.alpha.ProjectID, UserID: e.alpha.UserID, Created: apitest.SeedTime}})
	client, admin := e.compute(t, false), e.compute(t, true)

	// Create two, with a scheduler hint and the tenant network by ID.
	created, err := servers.Create(ctx, client, servers.CreateOpts{Name: "gc", ImageRef: apitest.CirrosID, FlavorRef: "1",
		Networks: []servers.Network{{UUID: osapi.TenantNetworkID(apitest.ClusterID)}}, Metadata: map[string]string{"role": "web"},
		SecurityGroups: []string{"default"}, Min: 2, Max: 2},
		servers.SchedulerHintOpts{Group: "a9000000-0000-4000-8000-000000000001"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if created.AdminPass == "" || len(created.Links) != 2 {
		t.Errorf("created %+v", created)
	}
	all, err := servers.List(client, servers.ListOpts{Name: "^gc-"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	both, err := servers.ExtractServers(all)
	// One create's servers have the same creation time and index: their
	// order is the tie-breaker's, their IDs'.
	slices.SortFunc(both, func(a, b servers.Server) int { return strings.Compare(a.Name, b.Name) })
	if err != nil || len(both) != 2 || both[0].ID != created.ID || both[0].Name != "gc-1" || both[1].Name != "gc-2" {
		t.Fatalf("listed %+v, %v", both, err)
	}
	// gc-2 stays unplaced: the group is anti-affine and there is one host.
	id := created.ID
	e.Place(t, id, apitest.NodeName, "")
	e.Consoles.Set(id, "line 1\nline 2\nline 3\n")

	// Get: the server as Nova shows it.
	s, err := servers.Get(ctx, client, id).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if s.Status != "ACTIVE" || s.Image["id"] != apitest.CirrosID || s.Flavor["id"] != "1" || s.Metadata["role"] != "web" ||
		s.TenantID != e.alpha.ProjectID || s.AvailabilityZone != "nova" || s.PowerState != servers.RUNNING ||
		s.LaunchedAt.IsZero() || len(s.SecurityGroups) != 1 || s.Addresses["default"] == nil {
		t.Errorf("server %+v", s)
	}

	// Paging: one at a time, following servers_links.
	var paged []string
	err = servers.ListSimple(client, servers.ListOpts{Limit: 1}).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		got, err := servers.ExtractServers(p)
		for _, s := range got {
			paged = append(paged, s.Name)
		}
		return true, err
	})
	slices.Sort(paged)
	if err != nil || !slices.Equal(paged, []string{"gc-1", "gc-2"}) {
		t.Errorf("paged %v, %v", paged, err)
	}
	if got, err := servers.List(client, servers.ListOpts{Status: "SHUTOFF"}).AllPages(ctx); err != nil {
		t.Error(err)
	} else if n, _ := servers.ExtractServers(got); len(n) != 0 {
		t.Errorf("SHUTOFF lists %d", len(n))
	}

	// The lifecycle, each step completed as the host would.
	steps := []struct {
		name  string
		do    func() error
		power fsm.PowerState
		want  string
	}{
		{"stop", func() error { return servers.Stop(ctx, client, id).ExtractErr() }, fsm.PowerShutdown, "SHUTOFF"},
		{"start", func() error { return servers.Start(ctx, client, id).ExtractErr() }, fsm.PowerRunning, "ACTIVE"},
		{"reboot", func() error {
			return servers.Reboot(ctx, client, id, servers.RebootOpts{Type: servers.HardReboot}).ExtractErr()
		}, fsm.PowerRunning, "ACTIVE"},
		{"pause", func() error { return servers.Pause(ctx, client, id).ExtractErr() }, fsm.PowerPaused, "PAUSED"},
		{"unpause", func() error { return servers.Unpause(ctx, client, id).ExtractErr() }, fsm.PowerRunning, "ACTIVE"},
		{"suspend", func() error { return servers.Suspend(ctx, client, id).ExtractErr() }, fsm.PowerSuspended, "SUSPENDED"},
		{"resume", func() error { return servers.Resume(ctx, client, id).ExtractErr() }, fsm.PowerRunning, "ACTIVE"},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		e.complete(t, id, st.power)
		if s, err := servers.Get(ctx, client, id).Extract(); err != nil || s.Status != st.want {
			t.Fatalf("after %s: %+v %v", st.name, s, err)
		}
	}
	// Update, metadata, lock.
	updated, err := servers.Update(ctx, client, id, servers.UpdateOpts{Name: "renamed", AccessIPv4: "192.0.2.9"}).Extract()
	if err != nil || updated.Name != "renamed" || updated.AccessIPv4 != "192.0.2.9" {
		t.Errorf("updated %+v %v", updated, err)
	}
	md, err := servers.UpdateMetadata(ctx, client, id, servers.MetadataOpts{"tier": "front"}).Extract()
	if err != nil || md["tier"] != "front" || md["role"] != "web" {
		t.Errorf("merged metadata %v %v", md, err)
	}
	md, err = servers.ResetMetadata(ctx, client, id, servers.MetadataOpts{"only": "this"}).Extract()
	if err != nil || len(md) != 1 || md["only"] != "this" {
		t.Errorf("reset metadata %v %v", md, err)
	}
	if md, err := servers.CreateMetadatum(ctx, client, id, servers.MetadatumOpts{"k": "v"}).Extract(); err != nil || md["k"] != "v" {
		t.Errorf("metadatum set %v %v", md, err)
	}
	if md, err := servers.Metadatum(ctx, client, id, "k").Extract(); err != nil || len(md) != 1 || md["k"] != "v" {
		t.Errorf("metadatum %v %v", md, err)
	}
	if err := servers.DeleteMetadatum(ctx, client, id, "k").ExtractErr(); err != nil {
		t.Error(err)
	}
	if md, err := servers.Metadata(ctx, client, id).Extract(); err != nil || len(md) != 1 {
		t.Errorf("metadata %v %v", md, err)
	}
	if msg := novaFault(t, servers.Metadatum(ctx, client, id, "k").Err, http.StatusNotFound); msg != "Metadata item was not found" {
		t.Errorf("missing item: %q", msg)
	}
	if err := servers.Lock(ctx, client, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if msg := novaFault(t, servers.Stop(ctx, client, id).ExtractErr(), http.StatusConflict); msg != "Instance "+id+" is locked" {
		t.Errorf("locked: %q", msg)
	}
	if err := servers.Unlock(ctx, client, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if pw, err := servers.GetPassword(ctx, client, id).ExtractPassword(nil); err != nil || pw != "" {
		t.Errorf("password %q %v", pw, err)
	}
	rebuilt, err := servers.Rebuild(ctx, client, id, servers.RebuildOpts{ImageRef: apitest.CirrosID, Name: "rebuilt",
		Metadata: map[string]string{"fresh": "yes"}}).Extract()
	if err != nil || rebuilt.Status != "REBUILD" || rebuilt.Name != "rebuilt" || rebuilt.AdminPass == "" {
		t.Fatalf("rebuilt %+v %v", rebuilt, err)
	}
	e.complete(t, id, fsm.PowerRunning)
	if s, err := servers.Get(ctx, client, id).Extract(); err != nil || s.Status != "ACTIVE" || s.Metadata["fresh"] != "yes" {
		t.Errorf("after rebuild %+v %v", s, err)
	}

	// A wrong state is Nova's 409.
	msg := novaFault(t, servers.Start(ctx, client, id).ExtractErr(), http.StatusConflict)
	if msg != "Cannot 'start' instance "+id+" while it is in vm_state active" {
		t.Errorf("409 says %q", msg)
	}

	out, err := servers.ShowConsoleOutput(ctx, client, id, servers.ShowConsoleOutputOpts{Length: 2}).Extract()
	if err != nil || out != "line 2\nline 3\n" && out != "line 3\n" {
		t.Errorf("console %q, %v", out, err)
	}

	// Addresses and ports.
	pages, err := servers.ListAddresses(client, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := servers.ExtractAddresses(pages)
	inst, _ := e.FSM.Instance(id)
	if err != nil || len(addrs["default"]) != 1 || addrs["default"][0].Address != inst.Addresses[0].IP || addrs["default"][0].Version != 4 {
		t.Errorf("addresses %+v %v", addrs, err)
	}
	pages, err = servers.ListAddressesByNetwork(client, id, "default").AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if byNet, err := servers.ExtractNetworkAddresses(pages); err != nil || len(byNet) != 1 {
		t.Errorf("by network %+v %v", byNet, err)
	}
	pages, err = attachinterfaces.List(client, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ifaces, err := attachinterfaces.ExtractInterfaces(pages)
	if err != nil || len(ifaces) != 1 || ifaces[0].MACAddr != inst.Addresses[0].MAC || ifaces[0].PortState != "ACTIVE" {
		t.Fatalf("interfaces %+v %v", ifaces, err)
	}
	port, err := attachinterfaces.Get(ctx, client, id, ifaces[0].PortID).Extract()
	if err != nil || port.NetID != osapi.TenantNetworkID(apitest.ClusterID) || port.FixedIPs[0].IPAddress != inst.Addresses[0].IP {
		t.Errorf("interface %+v %v", port, err)
	}

	// The action log, Nova's names, newest first; events for the admin.
	pages, err = instanceactions.List(client, id, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	actions, err := instanceactions.ExtractInstanceActions(pages)
	var names []string
	for _, a := range actions {
		names = append(names, a.Action)
	}
	if err != nil || !slices.Equal(names, []string{"rebuild", "unlock", "lock", "resume", "suspend", "unpause", "pause", "reboot", "start", "stop", "create"}) {
		t.Fatalf("actions %v %v", names, err)
	}
	detail, err := instanceactions.Get(ctx, admin, id, actions[0].RequestID).Extract()
	if err != nil || detail.Action != "rebuild" || detail.Events == nil || len(*detail.Events) != 1 ||
		(*detail.Events)[0].Result != "Success" {
		t.Errorf("action %+v %v", detail, err)
	}

	// An admin resets the state; a member may not.
	novaFault(t, servers.ResetState(ctx, client, id, servers.StateError).ExtractErr(), http.StatusForbidden)
	if err := servers.ResetState(ctx, admin, id, servers.StateError).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.ResetState(ctx, admin, id, servers.StateActive).ExtractErr(); err != nil {
		t.Fatal(err)
	}

	// Evacuate: a server of a host that went down, moved by an admin.
	const stranded = "a9000000-0000-4000-8000-0000000000e1"
	e.Apply(t, &fsm.CreateInstances{RequestID: "req-stranded", Time: apitest.SeedTime, ProjectID: e.alpha.ProjectID,
		UserID: e.alpha.UserID, Instances: []fsm.NewInstance{{ID: stranded, Name: "stranded", FlavorID: "1",
			ImageID: apitest.CirrosID, HA: fsm.HANone}}})
	e.Place(t, stranded, "node2", "")
	e.Apply(t, &fsm.MarkHostDown{Name: "node2", LastSeen: apitest.SeedTime, Reason: "test", Time: apitest.SeedTime})
	pass, err := servers.Evacuate(ctx, admin, stranded, servers.EvacuateOpts{Host: apitest.NodeName}).ExtractAdminPass()
	if err != nil || pass == "" {
		t.Fatalf("evacuate: %q %v", pass, err)
	}
	if s, err := servers.Get(ctx, client, stranded).Extract(); err != nil || s.Status != "REBUILD" {
		t.Errorf("evacuated %+v %v", s, err)
	}

	// Another project's server is absent; the error body is Nova's.
	beta, err := openstack.NewComputeV2(e.TenantProvider(t, e.beta), gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatal(err)
	}
	if msg := novaFault(t, servers.Get(ctx, beta, id).Err, http.StatusNotFound); msg != "Instance "+id+" could not be found." {
		t.Errorf("404 says %q", msg)
	}
	_, err = servers.Create(ctx, client, servers.CreateOpts{Name: "bad", ImageRef: apitest.CirrosID, FlavorRef: "404"}, nil).Extract()
	if msg := novaFault(t, err, http.StatusBadRequest); msg != "Flavor 404 could not be found." {
		t.Errorf("400 says %q", msg)
	}

	// Delete: 204, then the server goes when its host has destroyed it.
	if err := servers.Delete(ctx, client, id).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if err := servers.Delete(ctx, client, id).ExtractErr(); err != nil {
		t.Errorf("a second delete while deleting: %v", err)
	}
	e.complete(t, id, fsm.PowerNoState)
	if msg := novaFault(t, servers.Get(ctx, client, id).Err, http.StatusNotFound); !strings.Contains(msg, id) {
		t.Errorf("after delete: %q", msg)
	}
}
