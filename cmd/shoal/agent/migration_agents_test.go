package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// Two agents of one process whose fake drivers share a world move a server
// between them: the source's reconciler asks the destination over the
// internal HTTPS (node certificates) to prepare, and migrates to it.
func TestAgentsLiveMigrate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two agents")
	}
	world := fake.NewWorld()
	start := func(cfg Config) *Agent {
		t.Helper()
		a, err := New(cfg, Deps{FakeWorld: world})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stopAgent(t, a) })
		return a
	}
	boot := start(fakeAgent(filepath.Join(t.TempDir(), "data")))
	testkit.WaitFor(t, 30*time.Second, "the bootstrap node to lead its cluster", func() bool {
		return boot.Health().Status == "ok" && boot.Health().ClusterID != ""
	})
	local, joined, err := Admit(t.Context(), newNode(t, "n2", joinToken(t, boot, 1), &testkit.SyncBuffer{}), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { local.Close() })
	n2 := start(joined)
	st := boot.Node().FSM()
	testkit.WaitFor(t, 30*time.Second, "both hosts up, with inventory, unfenced", func() (bool, string) {
		h1, err1 := st.Host("n1")
		h2, err2 := st.Host("n2")
		ok := err1 == nil && err2 == nil && h1.VCPUs > 0 && h2.VCPUs > 0 && !boot.Health().Fenced && !n2.Health().Fenced
		return ok, fmt.Sprintf("%+v %+v", h1, h2)
	})

	const id = "7b000000-0000-4000-8000-0000000000a1"
	now := time.Now().UTC()
	apply := func(c fsm.Command) {
		t.Helper()
		if _, err := boot.Node().Apply(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	apply(&fsm.CreateImage{Image: fsm.Image{ID: "img-1", Name: "cirros", DiskFormat: "qcow2", ContainerFormat: "bare",
		Size: 1 << 20, Status: "active", Created: now, Updated: now}})
	apply(&fsm.CreateInstances{RequestID: "req-create", Time: now, Instances: []fsm.NewInstance{
		{ID: id, Name: "web", FlavorID: "1", ImageID: "img-1", ForceHost: "n1"}}})
	server := func() fsm.Instance {
		inst, _ := st.Instance(id)
		return inst
	}
	testkit.WaitFor(t, 30*time.Second, "the server ACTIVE on n1", func() (bool, string) {
		i := server()
		return i.Status() == "ACTIVE" && i.Host == "n1" && i.TaskState == fsm.TaskNone, i.Status() + " on " + i.Host
	})

	apply(&fsm.MigrateInstance{ID: id, Kind: fsm.MigrationLive, Host: "n2", Ratios: fsm.DefaultRatios,
		MigrationUUID: "mig-1", RequestID: "req-mig", Admin: true, Time: time.Now().UTC()})
	testkit.WaitFor(t, 30*time.Second, "the server ACTIVE on n2", func() (bool, string) {
		i := server()
		return i.Status() == "ACTIVE" && i.Host == "n2" && i.TaskState == fsm.TaskNone && i.MigrationID == 0,
			fmt.Sprintf("%s/%s on %s, migrations %+v", i.VMState, i.TaskState, i.Host, st.Migrations(nil))
	})
	if m := st.Migrations(nil)[0]; m.Status != fsm.MigrationCompleted {
		t.Errorf("migration %+v", m)
	}
	doms := n2.driver.(*fake.Driver).Domains()
	if len(doms) != 1 || doms[0].ID != id || doms[0].PowerState != fsm.PowerRunning {
		t.Errorf("n2's domains %+v", doms)
	}
	testkit.WaitFor(t, 30*time.Second, "n1's copy removed", func() bool { return len(boot.driver.(*fake.Driver).Domains()) == 0 })
}
