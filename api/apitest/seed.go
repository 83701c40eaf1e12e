package apitest

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// SeedTime is when every seed happened: replicated times are decided by
// the proposer, so seeds use a fixed one.
var SeedTime = time.Unix(300, 0).UTC()

// Inventory is what every seeded host offers.
var Inventory = fsm.Inventory{VCPUs: 8, MemoryMiB: 16384, DiskGiB: 100, Arch: "x86_64",
	HypervisorType: "QEMU", HypervisorVersion: "8.2.2", Zone: "nova"}

// SeedHosts registers hosts with Inventory; gossip reports each alive
// (members are replaced: the hosts named are all gossip knows).
func (e *Env) SeedHosts(t testing.TB, names ...string) {
	t.Helper()
	var members []api.Member
	for _, h := range names {
		e.Apply(t, &fsm.RegisterHost{Name: h, HTTPAddress: h + ":8774", Time: SeedTime},
			&fsm.UpdateHostInventory{Name: h, Inventory: Inventory, Time: SeedTime})
		members = append(members, api.Member{Name: h, Status: "alive", Inventory: Inventory})
	}
	e.Cluster.SetMembers(members...)
}

// CirrosID is the ID of the image SeedCompute makes.
const CirrosID = "0f0e0d0c-0000-4000-8000-000000000001"

// SeedCompute makes what servers need: hosts node1 and node2 (both up)
// and the public, active image "cirros" (CirrosID, qcow2, 20 MiB, min_ram
// 64) with its data on node1. The default flavors (m1.tiny is "1") and
// the tenant network are the bootstrap's.
func (e *Env) SeedCompute(t testing.TB) fsm.Image {
	t.Helper()
	e.SeedHosts(t, NodeName, "node2")
	return e.SeedImage(t, fsm.Image{ID: CirrosID, Name: "cirros", Visibility: fsm.ImagePublic, MinRAM: 64}, 20<<20)
}

// SeedImage creates img (qcow2/bare unless it says; queued without data)
// and, when size > 0, records size bytes of data on node1, which makes it
// active. The data is not in Images: a download of a seeded image is a 404
// (upload through the API for data that downloads).
func (e *Env) SeedImage(t testing.TB, img fsm.Image, size int64) fsm.Image {
	t.Helper()
	if img.DiskFormat == "" {
		img.DiskFormat = "qcow2"
	}
	if img.ContainerFormat == "" {
		img.ContainerFormat = "bare"
	}
	if img.Visibility == "" {
		img.Visibility = fsm.ImagePrivate
	}
	img.Status, img.Created, img.Updated = fsm.ImageQueued, SeedTime, SeedTime
	e.Apply(t, &fsm.CreateImage{Image: img})
	if size > 0 {
		e.Apply(t, &fsm.ImageUploaded{ID: img.ID, Node: NodeName, Size: size, Checksum: fmt.Sprintf("%064x", e.FSM.Index()),
			DiskFormat: img.DiskFormat, Time: SeedTime})
	}
	got, err := e.FSM.Image(img.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// SeedFlavor adds a flavor.
func (e *Env) SeedFlavor(t testing.TB, f fsm.Flavor) fsm.Flavor {
	t.Helper()
	e.Apply(t, &fsm.CreateFlavor{Flavor: f})
	got, err := e.FSM.Flavor(f.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// PublicNetworkID is the ID of the external network SeedExternalNetwork makes.
const PublicNetworkID = "7e000000-0000-4000-8000-000000000001"

// SeedExternalNetwork makes the external network "public" (PublicNetworkID,
// 10.66.0.0/24, gateway .1, floating IPs from .200 to .240).
func (e *Env) SeedExternalNetwork(t testing.TB) fsm.Network {
	t.Helper()
	e.Apply(t, &fsm.CreateNetwork{ID: PublicNetworkID, Name: "public", External: true, CIDR: "10.66.0.0/24",
		Gateway: "10.66.0.1", AllocationPools: []fsm.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}, Time: SeedTime})
	n, err := e.FSM.NetworkByID(PublicNetworkID)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// SeedServer creates server id named name of m1.tiny from imageID for the
// tenant and, when host is not "", places it there running. It returns
// the server as the replica has it.
func (e *Env) SeedServer(t testing.TB, tenant identitytest.Tenant, id, name, imageID, host string) fsm.Instance {
	t.Helper()
	e.Apply(t, &fsm.CreateInstances{RequestID: "req-seed", Time: SeedTime, ProjectID: tenant.ProjectID, UserID: tenant.UserID,
		Instances: []fsm.NewInstance{{ID: id, Name: name, FlavorID: "1", ImageID: imageID}}})
	if host != "" {
		e.Place(t, id, host, "")
	}
	inst, err := e.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// Place does what the scheduler and the host's reconciler would: put the
// server on host and report it running, or failed when buildErr is set.
func (e *Env) Place(t testing.TB, id, host, buildErr string) {
	t.Helper()
	e.Apply(t, &fsm.Plan{Time: SeedTime, Ratios: fsm.DefaultRatios, MaxAttempts: 3,
		Placements: []fsm.Placement{{InstanceID: id, Host: host}}})
	power := fsm.PowerRunning
	if buildErr != "" {
		power = fsm.PowerNoState
	}
	inst, err := e.FSM.Instance(id)
	if err != nil {
		t.Fatal(err)
	}
	e.Apply(t, &fsm.ReportInstances{Host: host, Time: SeedTime, Reports: []fsm.InstanceReport{
		{ID: id, PowerState: power, Done: fsm.TaskSpawning, TaskIndex: inst.TaskIndex, Error: buildErr}}})
}
