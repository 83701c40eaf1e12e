package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/compute/imagecache"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// oneNode is a single-node stand-in for the cluster: commands go straight to
// a real FSM, so the CLI meets the real API and the real state rules.
type oneNode struct{ *fsmtest.Applier }

func (n *oneNode) Members() []api.Member {
	return []api.Member{{Name: "n1", Status: "alive", Role: "leader"}}
}
func (n *oneNode) Leader() (api.Leader, bool)    { return api.Leader{Name: "n1"}, true }
func (n *oneNode) IsLeader() bool                { return true }
func (n *oneNode) Barrier(context.Context) error { return nil }
func (n *oneNode) Sync(context.Context) error    { return nil }
func (n *oneNode) Leave(context.Context) error   { return nil }
func (n *oneNode) Health() api.Health            { return api.Health{Name: "n1", Status: "ok"} }
func (n *oneNode) InternalClient() *http.Client  { return http.DefaultClient }
func (n *oneNode) RemoveHost(ctx context.Context, name string) error {
	_, err := n.Apply(ctx, &fsm.DeregisterHost{Name: name})
	return err
}
func (n *oneNode) RotateGossipKey(context.Context) (string, error) {
	return "8899aabbccddeeff", nil
}

// CreateJoinToken makes and records a real token, as cluster.Node does.
func (n *oneNode) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, by string) (string, fsm.JoinToken, error) {
	if ttl == 0 {
		ttl = cluster.DefaultJoinTokenTTL
	}
	if ttl > cluster.MaxJoinTokenTTL {
		return "", fsm.JoinToken{}, fmt.Errorf("%w: a join token lives at most %s", fsm.ErrInvalid, cluster.MaxJoinTokenTTL)
	}
	tok, err := jointoken.New([32]byte{9}, []string{"127.0.0.1:8774"})
	if err != nil {
		return "", fsm.JoinToken{}, err
	}
	now := time.Now().UTC()
	cmd := &fsm.CreateJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(), CreatedAt: now, ExpiresAt: now.Add(ttl), MaxUses: uses, CreatedBy: by}
	if _, err := n.Apply(ctx, cmd); err != nil {
		return "", fsm.JoinToken{}, err
	}
	return tok.String(), fsm.JoinToken{ID: cmd.ID, CreatedAt: now, ExpiresAt: cmd.ExpiresAt, MaxUses: uses, CreatedBy: by}, nil
}

// newOneNode is the stand-in bootstrapped with the test identity; the
// command line runs as its admin, with the token in SHOAL_TOKEN as a user
// may give it.
func newOneNode(t *testing.T) (*oneNode, http.Handler) {
	t.Helper()
	n := &oneNode{fsmtest.New()}
	t.Setenv("SHOAL_TOKEN", identitytest.AdminToken)
	n.MustApply(t, identitytest.Bootstrap("c1")...)
	n.MustApply(t, &fsm.RegisterHost{Name: "n1", HTTPAddress: "127.0.0.1:8774"},
		&fsm.UpdateHostInventory{Name: "n1", Inventory: fsm.Inventory{VCPUs: 4, MemoryMiB: 8192, DiskGiB: 40, HypervisorType: "QEMU"}})
	cache, err := imagecache.New(imagecache.Config{Dir: filepath.Join(t.TempDir(), "images"), NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	return n, api.New(api.Config{State: n.FSM, Cluster: n, NodeName: "n1", Images: cacheImages{cache},
		Auth: api.Auth{Signer: identitytest.Signer}}).Handler()
}

// cacheImages shows an imagecache.Cache to the API.
type cacheImages struct{ c *imagecache.Cache }

func (a cacheImages) Put(ctx context.Context, r io.Reader, format string, max int64) (api.StoredImage, error) {
	st, err := a.c.Put(ctx, r, format, max)
	return api.StoredImage(st), err
}
func (a cacheImages) Has(sum string) bool                           { return a.c.Has(sum) }
func (a cacheImages) Open(sum string) (io.ReadCloser, int64, error) { return a.c.Open(sum) }

// TestComputeCommands drives the commands against the real API.
func TestComputeCommands(t *testing.T) {
	shortWait(t)
	n, h := newOneNode(t)
	run := func(args string) string {
		t.Helper()
		out, _, err := runCLI(t, h, args)
		if err != nil {
			t.Fatalf("shoal %s: %v", args, err)
		}
		return out
	}

	out := run("image create cirros --file " + writeFile(t, "cirros.raw", make([]byte, 1024)) + " --disk-format raw --min-ram 64 --property os_distro=cirros")
	if !strings.Contains(out, "status            active\n") || !strings.Contains(out, "disk_format       raw\n") ||
		!strings.Contains(out, "locations         n1\n") || !strings.Contains(out, "os_distro='cirros'") {
		t.Errorf("image create printed\n%s", out)
	}
	run("server-group create spread --policy anti-affinity")
	if out := run("server-group list"); !strings.Contains(out, "spread  anti-affinity") {
		t.Errorf("server-group list printed\n%s", out)
	}

	out = run("server create web --flavor m1.tiny --image cirros --server-group spread --count 2 -o json")
	var created api.ServerList
	if err := json.Unmarshal([]byte(out), &created); err != nil || len(created.Servers) != 2 {
		t.Fatalf("server create --count 2 -o json: %v\n%s", err, out)
	}
	out = run("server list --status build")
	if !strings.Contains(out, "web-1") || !strings.Contains(out, "web-2") || !strings.Contains(out, "default=10.88.0.") {
		t.Errorf("server list printed\n%s", out)
	}
	if out := run("server list --name ^web-2$ -o json"); !strings.Contains(out, created.Servers[1].ID) || strings.Contains(out, created.Servers[0].ID) {
		t.Errorf("server list --name printed\n%s", out)
	}

	// Place web-1 as the scheduler and host would; then act on it by name.
	id := created.Servers[0].ID
	n.MustApply(t, &fsm.Plan{Time: time.Now(), Ratios: fsm.DefaultRatios, MaxAttempts: 1, Placements: []fsm.Placement{{InstanceID: id, Host: "n1"}}})
	placed, _ := n.FSM.Instance(id)
	n.MustApply(t, &fsm.ReportInstances{Host: "n1", Reports: []fsm.InstanceReport{{ID: id, PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning, TaskIndex: placed.TaskIndex}}})
	if out := run("server show web-1"); !strings.Contains(out, "status             ACTIVE\n") {
		t.Errorf("server show printed\n%s", out)
	}
	if out := run("server stop web-1"); out != "web-1: stop requested; now ACTIVE (powering-off)\n" {
		t.Errorf("server stop printed %q", out)
	}
	_, _, err := runCLI(t, h, "server pause web-1")
	if err == nil || !errors.Is(err, fsm.ErrConflict) || !strings.Contains(err.Error(), "powering-off") {
		t.Errorf("pause while stopping: %v", err)
	}
	run("server reset-state web-1 --state active")
	if out := run("server actions web-1"); !strings.Contains(out, "reset-state active") || !strings.Contains(out, "interrupted by reset-state") {
		t.Errorf("server actions printed\n%s", out)
	}
	if out := run("server reboot --hard web-1 -o json"); !strings.Contains(out, `"status": "HARD_REBOOT"`) {
		t.Errorf("server reboot --hard -o json printed\n%s", out)
	}

	// web-2 never reached a host: it is gone at once, so --wait returns.
	if out := run("server delete --wait " + created.Servers[1].ID); !strings.HasPrefix(out, "deleted server web-2") {
		t.Errorf("server delete --wait printed %q", out)
	}
	if _, _, err := runCLI(t, h, "server show web-2"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("show deleted: %v", err)
	}
	if _, _, err := runCLI(t, h, "server delete nope1 nope2"); err == nil || !strings.Contains(err.Error(), "2 of 2 servers failed") {
		t.Errorf("delete unknown servers: %v", err)
	}
	if _, _, err := runCLI(t, h, "image delete cirros"); !errors.Is(err, fsm.ErrConflict) || !strings.Contains(err.Error(), "in use") {
		t.Errorf("delete image in use: %v", err)
	}

	out = run("host disable n1 --reason maintenance")
	if !strings.Contains(out, "n1    up     disabled") || !strings.Contains(out, "maintenance") {
		t.Errorf("host disable printed\n%s", out)
	}
	if out := run("host enable n1 -o json"); !strings.Contains(out, `"status": "enabled"`) {
		t.Errorf("host enable -o json printed\n%s", out)
	}
	if out := run("hypervisor list"); !strings.Contains(out, "1/4") || !strings.Contains(out, "512/8192") {
		t.Errorf("hypervisor list printed\n%s", out)
	}
	if out := run("hypervisor show n1"); !strings.Contains(out, "running_vms      1\n") {
		t.Errorf("hypervisor show printed\n%s", out)
	}
	if out := run("hypervisor stats -o json"); !strings.Contains(out, `"vcpus_used": 1`) {
		t.Errorf("hypervisor stats -o json printed\n%s", out)
	}
}
