package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
)

// state is a replica whose view the test sets.
type state struct {
	mu    sync.Mutex
	view  fsm.NetworkView
	watch chan struct{}
}

func newState(v fsm.NetworkView) *state { return &state{view: v, watch: make(chan struct{})} }

func (s *state) NetworkView() fsm.NetworkView {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view
}

func (s *state) WatchCh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watch
}

func (s *state) set(f func(v *fsm.NetworkView)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.view)
	close(s.watch)
	s.watch = make(chan struct{})
}

// dataplane records the calls made to it, in order, and tells passes.
type dataplane struct {
	mu        sync.Mutex
	calls     []string
	filtered  []nft.Ruleset
	programed []link.Desired
	uplinkErr error
	closed    bool
	passes    chan link.Desired // each Program, when not nil
}

func (d *dataplane) Uplink(name string, addr netip.Addr) (link.Uplink, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.uplinkErr != nil {
		return link.Uplink{}, d.uplinkErr
	}
	return link.Uplink{Name: "eth0", Addr: addr}, nil
}

func (d *dataplane) record(c string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, c)
}

func (d *dataplane) Sysctls(bridge string) ([]string, error) {
	d.record("sysctls " + bridge)
	return nil, nil
}

func (d *dataplane) Withdraw(l link.Desired) ([]string, error) {
	d.record(fmt.Sprintf("withdraw %v", l.FloatingAddrs))
	return nil, nil
}

func (d *dataplane) Filter(rs nft.Ruleset) error {
	d.record(fmt.Sprintf("filter %v", rs.NAT))
	d.mu.Lock()
	defer d.mu.Unlock()
	d.filtered = append(d.filtered, rs)
	return nil
}

func (d *dataplane) Program(l link.Desired) ([]string, error) {
	d.record(fmt.Sprintf("program %v", l.FloatingAddrs))
	if d.passes != nil {
		d.passes <- l
	}
	return []string{"+something"}, nil
}

func (d *dataplane) Close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
}

func (d *dataplane) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.calls
	d.calls = nil
	return c
}

// cluster is h1 (10.99.0.11) running server a with floating IP .201, and h2
// running b.
func cluster() fsm.NetworkView {
	return fsm.NetworkView{
		Tenant:   &fsm.Network{Name: "default", CIDR: "10.78.0.0/24"},
		External: []fsm.Network{{ID: "n1", CIDR: "10.66.0.0/24", External: true}},
		Hosts:    []fsm.Host{{Name: "h1", RaftAddress: "10.99.0.11:7947"}, {Name: "h2", RaftAddress: "10.99.0.12:7947"}},
		Instances: []fsm.Instance{
			{ID: idA, Host: "h1", Addresses: []fsm.Address{{IP: "10.78.0.2", MAC: "fa:16:3e:00:00:02"}}},
			{ID: idB, Host: "h2", Addresses: []fsm.Address{{IP: "10.78.0.3", MAC: "fa:16:3e:00:00:03"}}},
		},
		FloatingIPs: []fsm.FloatingIP{{ID: "f1", IP: "10.66.0.201", InstanceID: idA}},
	}
}

type fence struct {
	mu     sync.Mutex
	fenced bool
}

func (f *fence) set(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fenced = v
}

func (f *fence) get() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fenced
}

func newReconciler(t *testing.T, st State, dp Dataplane, f *fence, bridge func() (string, error)) *Reconciler {
	t.Helper()
	if bridge == nil {
		bridge = func() (string, error) { return "shbr1", nil }
	}
	r, err := New(Config{Host: "h1", Address: h1, Bridge: bridge, Fenced: f.get}, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReconcilerPass(t *testing.T) {
	st, dp, f := newState(cluster()), &dataplane{}, &fence{}
	r := newReconciler(t, st, dp, f, nil)

	// Order: what leaves goes before the filter changes, what arrives after.
	if err := r.Pass(true); err != nil {
		t.Fatal(err)
	}
	want := []string{"sysctls shbr1", "withdraw [10.66.0.201]", "filter [{10.66.0.201 10.78.0.2}]", "program [10.66.0.201]"}
	if got := dp.take(); !slices.Equal(got, want) {
		t.Fatalf("first pass %q, want %q", got, want)
	}

	// A change of the replica that changes nothing here: no work.
	st.set(func(v *fsm.NetworkView) { v.Instances[1].Name = "renamed" })
	if err := r.Pass(false); err != nil {
		t.Fatal(err)
	}
	if got := dp.take(); len(got) != 0 {
		t.Fatalf("unchanged plan applied again: %q", got)
	}
	// The periodic pass applies anyway (someone may have flushed the host).
	r.Pass(true)
	if got := dp.take(); len(got) != 4 {
		t.Fatalf("forced pass: %q", got)
	}

	// Fenced: no floating IP, no NAT.
	f.set(true)
	r.Pass(false)
	want = []string{"sysctls shbr1", "withdraw []", "filter []", "program []"}
	if got := dp.take(); !slices.Equal(got, want) {
		t.Fatalf("fenced pass %q, want %q", got, want)
	}
}

// TestReconcilerMetadataPort: the node's metadata port and the tenant
// gateway from the replica make the ruleset's metadata DNAT.
func TestReconcilerMetadataPort(t *testing.T) {
	nv := cluster()
	nv.Tenant.Gateway = "10.78.0.1"
	st, dp, f := newState(nv), &dataplane{}, &fence{}
	r, err := New(Config{Host: "h1", Address: h1, MetadataPort: 8775, Bridge: func() (string, error) { return "shbr1", nil },
		Fenced: f.get}, st, dp)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Pass(true); err != nil {
		t.Fatal(err)
	}
	if rs := dp.filtered[len(dp.filtered)-1]; rs.Gateway != netip.MustParseAddr("10.78.0.1") || rs.MetadataPort != 8775 {
		t.Errorf("metadata DNAT to %v:%d, want 10.78.0.1:8775", rs.Gateway, rs.MetadataPort)
	}
}

func TestReconcilerWithoutBridgeOrUplink(t *testing.T) {
	st, dp, f := newState(cluster()), &dataplane{}, &fence{fenced: true}
	r := newReconciler(t, st, dp, f, func() (string, error) { return "", errors.New("libvirtd is away") })
	// No bridge name: still withdraws the floating IPs of a fenced host,
	// and says the pass failed (it is retried).
	if err := r.Pass(true); err == nil {
		t.Fatal("a pass without the bridge's name succeeded")
	}
	want := []string{"sysctls ", "withdraw []", "filter []", "program []"}
	if got := dp.take(); !slices.Equal(got, want) {
		t.Fatalf("pass %q, want %q", got, want)
	}

	// No uplink is a state, not a failure: floating IPs wait.
	dp.uplinkErr = link.ErrNoUplink
	f.set(false)
	r = newReconciler(t, st, dp, f, nil)
	if err := r.Pass(true); err != nil {
		t.Fatalf("a pass without uplink failed: %v", err)
	}
	if got := dp.take(); !slices.Equal(got, []string{"sysctls shbr1", "withdraw []", "filter []", "program []"}) {
		t.Fatalf("pass without uplink %q", got)
	}

	// Before bootstrap there is nothing to do.
	st.set(func(v *fsm.NetworkView) { *v = fsm.NetworkView{} })
	r.Pass(true)
	if got := dp.take(); len(got) != 0 {
		t.Fatalf("pass without a tenant network: %q", got)
	}
}

func TestReconcilerRun(t *testing.T) {
	st, f := newState(cluster()), &fence{}
	dp := &dataplane{passes: make(chan link.Desired)}
	r := newReconciler(t, st, dp, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	next := func() link.Desired {
		select {
		case d := <-dp.passes:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("no pass")
			return link.Desired{}
		}
	}
	if d := next(); len(d.FloatingAddrs) != 1 {
		t.Fatalf("first pass %+v", d)
	}
	// The server moves to h2: its floating IP leaves this host.
	st.set(func(v *fsm.NetworkView) { v.Instances[0].Host = "h2" })
	if d := next(); len(d.FloatingAddrs) != 0 || len(d.Routes) != 2 {
		t.Fatalf("after the move %+v", d)
	}
	// Back here, then the fence comes up: Kick starts the pass.
	st.set(func(v *fsm.NetworkView) { v.Instances[0].Host = "h1" })
	if d := next(); len(d.FloatingAddrs) != 1 {
		t.Fatalf("after the move back %+v", d)
	}
	f.set(true)
	r.Kick()
	if d := next(); len(d.FloatingAddrs) != 0 {
		t.Fatalf("fenced %+v", d)
	}
	cancel()
	<-done
	if !dp.closed {
		t.Fatal("Run did not close the dataplane")
	}
}
