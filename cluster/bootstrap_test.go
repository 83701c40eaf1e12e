package cluster_test

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// Bootstrapping runs once, on the bootstrap itself, with the node's HTTP
// address, and its identity is in the cluster; a restart finds Raft state
// and never runs it again.
func TestBootstrappingIdentity(t *testing.T) {
	var calls atomic.Int32
	var addr atomic.Value
	c := clustertest.New(t, 1, func(cfg *cluster.Config) {
		cfg.Bootstrapping = func(httpAddr string) (*fsm.BootstrapIdentity, error) {
			calls.Add(1)
			addr.Store(httpAddr)
			return &fsm.BootstrapIdentity{AdminProjectID: identitytest.AdminProjectID, AdminUserID: identitytest.AdminUserID,
				AdminPasswordHash: identitytest.PasswordHash(), AdminRoleID: identitytest.AdminRoleID,
				MemberRoleID: identitytest.MemberRoleID, ReaderRoleID: identitytest.ReaderRoleID}, nil
		}
	})
	nd := c.Nodes[0]
	testkit.WaitFor(t, settle, "user admin in the new cluster", func() bool {
		u, err := nd.FSM().User("admin")
		return err == nil && u.ID == identitytest.AdminUserID
	})
	if got := addr.Load(); got != nd.HTTPAddr() {
		t.Errorf("Bootstrapping was told %v, want the node's HTTP address %s", got, nd.HTTPAddr())
	}
	c.Stop(0)
	c.Start(0)
	testkit.WaitFor(t, settle, "project admin after the restart", func() bool {
		_, err := c.Nodes[0].FSM().Project("admin")
		return err == nil
	})
	if n := calls.Load(); n != 1 {
		t.Errorf("Bootstrapping ran %d times over a bootstrap and a restart, want once", n)
	}
}

// A failing Bootstrapping stops New and bootstraps nothing: the next start
// bootstraps afresh.
func TestBootstrappingErrorBootstrapsNothing(t *testing.T) {
	refused := errors.New("no password for you")
	cfg := cluster.Config{Name: "n1", DataDir: filepath.Join(t.TempDir(), "data"), BindAddr: "127.0.0.1", Bootstrap: true,
		Bootstrapping: func(string) (*fsm.BootstrapIdentity, error) { return nil, refused }}
	if n, err := cluster.New(cfg, nil); !errors.Is(err, refused) {
		t.Fatalf("New = %v, %v; want the Bootstrapping error", n, err)
	}
	ran := false
	cfg.Bootstrapping = func(string) (*fsm.BootstrapIdentity, error) { ran = true; return nil, nil }
	n, err := cluster.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(t.Context()) })
	if !ran {
		t.Error("after a refused bootstrap the next start found Raft state; want none")
	}
}
