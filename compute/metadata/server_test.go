package metadata

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/shoal-project/shoal/internal/testkit"
)

// tenant is a replica's gateway that tests change; each change closes the
// watch channel, as the FSM's does.
type tenant struct {
	mu    sync.Mutex
	gw    netip.Addr
	watch chan struct{}
}

func newTenant(gw string) *tenant {
	t := &tenant{watch: make(chan struct{})}
	if gw != "" {
		t.gw = netip.MustParseAddr(gw)
	}
	return t
}

func (t *tenant) Gateway() (netip.Addr, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gw, t.gw.IsValid()
}

func (t *tenant) Watch() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.watch
}

func (t *tenant) move(gw string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gw = netip.Addr{}
	if gw != "" {
		t.gw = netip.MustParseAddr(gw)
	}
	close(t.watch)
	t.watch = make(chan struct{})
}

// TestServerFollowsTheGateway: the server listens on the gateway the
// replica names (a guest at 127.0.0.1 reads its hostname through real
// TCP), moves when it changes, binds an address no interface has yet
// (IP_FREEBIND: the bridge comes with the first guest), stops listening
// without a tenant network, and leaves no goroutine behind.
func TestServerFollowsTheGateway(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	inst := fullInstance()
	inst.Port.IP = netip.MustParseAddr("127.0.0.1")
	h := newTestHandler(t, HandlerConfig{Guests: guestMap{inst.Port.IP: inst},
		Resolver: neighbours{inst.Port.IP: inst.Port.MAC}})
	ten := newTenant("127.0.0.1")
	s, err := NewServer(ServerConfig{Port: -1, Gateway: ten.Gateway, Watch: ten.Watch, Handler: h})
	if err == nil {
		t.Fatal("a server on port -1 was made")
	}
	// Port 0 would be the default: ask the kernel for a free one first.
	s, err = NewServer(ServerConfig{Gateway: ten.Gateway, Watch: ten.Watch, Handler: h})
	if err != nil || s.cfg.Port != DefaultPort {
		t.Fatalf("default port: %v %d", err, s.cfg.Port)
	}
	s.cfg.Port = freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()

	at := func(gw string) func() (bool, string) {
		return func() (bool, string) { a := s.Addr(); return a.Addr().String() == gw, a.String() }
	}
	testkit.WaitFor(t, 10*time.Second, "listening on 127.0.0.1", at("127.0.0.1"))
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	if body := fetch(t, client, s.Addr(), "/latest/meta-data/hostname"); body != inst.Hostname {
		t.Errorf("hostname through TCP: %q", body)
	}
	old := s.Addr()
	ten.move("127.0.0.2")
	testkit.WaitFor(t, 10*time.Second, "moved to 127.0.0.2", at("127.0.0.2"))
	if body := fetch(t, client, s.Addr(), "/openstack/latest/meta_data.json"); len(body) == 0 {
		t.Error("nothing on the new gateway")
	}
	if _, err := client.Get(fmt.Sprintf("http://%s/", old)); err == nil {
		t.Errorf("still answering on the old gateway %s", old)
	}
	ten.move("192.0.2.1") // TEST-NET-1: on no interface here; nothing is sent
	testkit.WaitFor(t, 10*time.Second, "bound to an address no interface holds", at("192.0.2.1"))
	ten.move("")
	testkit.WaitFor(t, 10*time.Second, "not listening without a tenant network", func() bool { return !s.Addr().IsValid() })
	cancel()
	<-done
	goleak.VerifyNone(t, ignore)
}

func fetch(t *testing.T, c *http.Client, at netip.AddrPort, p string) string {
	t.Helper()
	resp, err := c.Get(fmt.Sprintf("http://%s%s", at, p))
	if err != nil {
		t.Fatalf("GET %s: %v", p, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", p, resp.StatusCode, b)
	}
	return string(b)
}

// freePort is a TCP port nothing listens on now, on any of the test's
// addresses (a port free on 127.0.0.1 is assumed free on the others).
func freePort(t *testing.T) int {
	t.Helper()
	s, err := NewServer(ServerConfig{Gateway: func() (netip.Addr, bool) { return netip.Addr{}, false },
		Watch: func() <-chan struct{} { return nil }, Handler: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Port = 0
	sv, err := s.listen(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer sv.stop()
	return int(sv.addr.Port())
}

// TestServerWarnsOnceWhileItCannotListen: a port someone else holds is
// retried on every replica change and every Retry, and warned about once,
// not at every attempt; once free, the server takes it.
func TestServerWarnsOnceWhileItCannotListen(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := held.Addr().(*net.TCPAddr).Port
	ten := newTenant("127.0.0.1")
	var logs testkit.SyncBuffer
	s, err := NewServer(ServerConfig{Port: port, Gateway: ten.Gateway, Watch: ten.Watch, Handler: http.NotFoundHandler(),
		Retry: 5 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	for range 20 {
		ten.move("127.0.0.1")
	}
	testkit.WaitFor(t, 5*time.Second, "a warning", func() bool { return strings.Contains(logs.String(), "cannot listen") })
	time.Sleep(50 * time.Millisecond) // ~10 more retries, none of them to be logged
	if n := strings.Count(logs.String(), "cannot listen"); n != 1 {
		t.Errorf("warned %d times while the port was held, want once:\n%s", n, logs.String())
	}
	held.Close()
	testkit.WaitFor(t, 5*time.Second, "listening once the port is free", func() bool { return s.Addr().Port() == uint16(port) })
}
