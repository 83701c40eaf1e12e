package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	driver "github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// fakeMigrator is a Migrator that records what it prepared for.
type fakeMigrator struct {
	mu       sync.Mutex
	prepared []driver.InstanceSpec
	err      error
}

func (f *fakeMigrator) PrepareIncoming(_ context.Context, spec driver.InstanceSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.prepared = append(f.prepared, spec)
	return "<domain><uuid>" + spec.ID + "</uuid></domain>", nil
}

func (f *fakeMigrator) specs() []driver.InstanceSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]driver.InstanceSpec(nil), f.prepared...)
}

const (
	incomingVM = "7b000000-0000-4000-8000-000000000001" // on node2, resizing to node1
	outgoingVM = "7b000000-0000-4000-8000-000000000002" // on node1, moving to node2
	stillVM    = "7b000000-0000-4000-8000-000000000003" // on node1, not moving
)

// The destination of a migration prepares for the server, with the flavor
// it has while it moves, when another node asks with its certificate; it
// refuses a server it is not the destination of, an unknown one, and a
// caller without a node certificate.
func TestMigrationTarget(t *testing.T) {
	c := newFakeCluster(t)
	seed := c.seedCompute(t)
	now := time.Unix(300, 0).UTC()
	for _, vm := range []struct{ id, host string }{{incomingVM, "node2"}, {outgoingVM, "node1"}, {stillVM, "node1"}} {
		c.MustApply(t, &fsm.CreateInstances{RequestID: "req-" + vm.id, Time: now, Instances: []fsm.NewInstance{
			{ID: vm.id, Name: "vm", FlavorID: "1", ImageID: seed.image.ID}}})
		c.place(t, vm.id, vm.host, "")
	}
	c.MustApply(t,
		&fsm.MigrateInstance{ID: incomingVM, Kind: fsm.MigrationResize, Host: "node1", FlavorID: "2", Ratios: fsm.DefaultRatios,
			MigrationUUID: "m-1", RequestID: "req-m1", Admin: true, Time: now},
		&fsm.MigrateInstance{ID: outgoingVM, Kind: fsm.MigrationLive, Host: "node2", Ratios: fsm.DefaultRatios,
			MigrationUUID: "m-2", RequestID: "req-m2", Admin: true, Time: now})
	mig := &fakeMigrator{}
	id := nodeIdentity(t, testCA(), "node1")
	ts := nodeServer(t, New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(), Migrator: mig}).Handler(), id)
	peer := nodeClient(t, nodeIdentity(t, testCA(), "node2"))
	post := func(t *testing.T, cl *http.Client, server string) (*http.Response, []byte) {
		t.Helper()
		resp, err := cl.Post(ts.URL+strings.Replace(InternalMigrationTarget, "{id}", server, 1), "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}

	t.Run("destination", func(t *testing.T) {
		resp, body := post(t, peer, incomingVM)
		var got MigrationTarget
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 || !strings.Contains(got.DomainXML, incomingVM) {
			t.Fatalf("= %d %s (%v)", resp.StatusCode, body, err)
		}
		specs := mig.specs()
		if len(specs) != 1 || specs[0].ID != incomingVM || specs[0].MemoryMiB != 512 || specs[0].DiskGiB != 1 || len(specs[0].Addresses) != 1 {
			t.Errorf("prepared %+v, want the server with its old flavor (m1.tiny) and its address", specs)
		}
	})
	t.Run("not the destination", func(t *testing.T) {
		for _, server := range []string{outgoingVM, stillVM} {
			resp, body := post(t, peer, server)
			wantError(t, resp, body, 409, server)
		}
		if n := len(mig.specs()); n != 1 {
			t.Errorf("prepared %d times", n)
		}
	})
	t.Run("unknown server", func(t *testing.T) {
		resp, body := post(t, peer, "7b000000-0000-4000-8000-0000000000ff")
		wantError(t, resp, body, 404, "")
	})
	t.Run("no node certificate", func(t *testing.T) {
		for _, token := range []string{adminToken, ""} {
			resp, body := call(t, ts, "POST", strings.Replace(InternalMigrationTarget, "{id}", incomingVM, 1), "", HeaderAuthToken, token)
			wantError(t, resp, body, 403, "node certificate")
		}
	})
	t.Run("arrived already", func(t *testing.T) {
		mig.mu.Lock()
		mig.err = fmt.Errorf("%w: the domain is active on this host", driver.ErrInvalidState)
		mig.mu.Unlock()
		resp, body := post(t, peer, incomingVM)
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"domain_xml":"","arrived":true}` {
			t.Errorf("= %d %s", resp.StatusCode, body)
		}
	})
	t.Run("driver fails", func(t *testing.T) {
		mig.mu.Lock()
		mig.err = errors.New("no space left on device")
		mig.mu.Unlock()
		resp, body := post(t, peer, incomingVM)
		wantError(t, resp, body, 500, "no space left")
	})
}

// A destination whose replica has not seen the migration yet catches up
// (a read index from the leader) before it answers.
func TestMigrationTargetCatchesUp(t *testing.T) {
	c := newFakeCluster(t)
	seed := c.seedCompute(t)
	now := time.Unix(300, 0).UTC()
	c.MustApply(t, &fsm.CreateInstances{RequestID: "req", Time: now, Instances: []fsm.NewInstance{
		{ID: incomingVM, Name: "vm", FlavorID: "1", ImageID: seed.image.ID}}})
	c.place(t, incomingVM, "node2", "")
	c.set(func(c *fakeCluster) {
		c.onSync = func() {
			c.MustApply(t, &fsm.MigrateInstance{ID: incomingVM, Kind: fsm.MigrationLive, Host: "node1", Ratios: fsm.DefaultRatios,
				MigrationUUID: "m-1", RequestID: "req-m1", Admin: true, Time: now})
		}
	})
	mig := &fakeMigrator{}
	id := nodeIdentity(t, testCA(), "node1")
	ts := nodeServer(t, New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(), Migrator: mig}).Handler(), id)
	resp, err := nodeClient(t, nodeIdentity(t, testCA(), "node2")).Post(
		ts.URL+strings.Replace(InternalMigrationTarget, "{id}", incomingVM, 1), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || len(mig.specs()) != 1 {
		t.Errorf("= %d, prepared %d", resp.StatusCode, len(mig.specs()))
	}
}
