package metadata

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// guestMap is a fixed set of guests by fixed IP.
type guestMap map[netip.Addr]Instance

func (g guestMap) Guest(ip netip.Addr) (Instance, bool) {
	i, ok := g[ip]
	return i, ok
}

// neighbours is a fixed neighbour table; a missing entry is an error.
type neighbours map[netip.Addr]net.HardwareAddr

func (n neighbours) MAC(ip netip.Addr) (net.HardwareAddr, error) {
	if m, ok := n[ip]; ok {
		return m, nil
	}
	return nil, ErrNoNeighbour
}

// zeros is a Rand that gives zero bytes, so responses are comparable.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// clock is a limiter clock that tests step.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// twoGuests are A (the full fixture) and B (the bare one) on one bridge,
// with the neighbour table right for both.
func twoGuests() (a, b Instance, g guestMap, n neighbours) {
	a, b = fullInstance(), bareInstance()
	a.RandomSeed, b.RandomSeed = nil, nil
	g = guestMap{a.Port.IP: a, b.Port.IP: b}
	n = neighbours{a.Port.IP: a.Port.MAC, b.Port.IP: b.Port.MAC}
	return a, b, g, n
}

func newTestHandler(t *testing.T, cfg HandlerConfig) *Handler {
	t.Helper()
	if cfg.Rand == nil {
		cfg.Rand = zeros{}
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get asks h for p from src (an ip:port, as the server sets RemoteAddr).
func get(h http.Handler, method, src, p string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://169.254.169.254"+p, nil)
	r.RemoteAddr = src
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func from(i Instance) string { return netip.AddrPortFrom(i.Port.IP, 40000).String() }

// pathsOf are every path of both trees for inst (the golden crawls').
func pathsOf(t *testing.T, inst Instance) []string {
	t.Helper()
	tr := &transcript{t: t, inst: inst}
	var paths []string
	for _, v := range tr.get("/") {
		tr.ec2Dir("/" + v + "/")
	}
	for _, v := range tr.get("/openstack") {
		for _, f := range tr.get("/openstack/" + v) {
			tr.get("/openstack/" + v + "/" + f)
		}
	}
	for _, line := range strings.Split(tr.out.String(), "\n") {
		if p, ok := strings.CutPrefix(line, "GET "); ok {
			paths = append(paths, p)
		}
	}
	return paths
}

// TestHandlerIsolation: every path of both trees, asked by each guest,
// answers that guest's own metadata, byte for byte, and nothing of the
// other's: its ID, name, address, key, user data or floating IP.
func TestHandlerIsolation(t *testing.T) {
	a, b, guests, neigh := twoGuests()
	h := newTestHandler(t, HandlerConfig{Guests: guests, Resolver: neigh, Burst: 10000})
	secrets := map[string][]string{
		a.UUID: {a.UUID, a.Name, a.Port.IP.String(), a.KeyData, string(a.UserData), a.FloatingIP.String(), "i-6f0d5a4e"},
		b.UUID: {b.UUID, b.Name, b.Port.IP.String(), "i-0b2c4d6e", "zone-b"},
	}
	for _, tc := range []struct{ me, other Instance }{{a, b}, {b, a}} {
		me := tc.me
		me.RandomSeed = make([]byte, seedLen)
		paths := append(pathsOf(t, tc.me), pathsOf(t, tc.other)...)
		for _, p := range paths {
			w := get(h, http.MethodGet, from(tc.me), p)
			want, err := Lookup(me, p)
			switch {
			case err != nil && w.Code != http.StatusNotFound:
				t.Errorf("%s asks %s: %d, want 404 (it has no such path)", tc.me.Name, p, w.Code)
			case err == nil && (w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), want.Body) ||
				w.Header().Get("Content-Type") != want.Type):
				t.Errorf("%s asks %s: %d %q %q, want its own %q", tc.me.Name, p, w.Code,
					w.Header().Get("Content-Type"), w.Body, want.Body)
			}
			for _, s := range secrets[tc.other.UUID] {
				if bytes.Contains(w.Body.Bytes(), []byte(s)) {
					t.Errorf("%s asks %s and reads %s's %q", tc.me.Name, p, tc.other.Name, s)
				}
			}
		}
	}
}

// TestHandlerRefuses: a source that is no guest here, a guest's address
// sent from another guest's MAC (spoofed), an address the host has no
// neighbour entry for, and anything but GET and HEAD; none reads a byte of
// anyone's metadata.
func TestHandlerRefuses(t *testing.T) {
	a, b, guests, neigh := twoGuests()
	spoofed := neighbours{a.Port.IP: a.Port.MAC, b.Port.IP: a.Port.MAC} // A answered ARP for B's address
	unresolved := neighbours{a.Port.IP: a.Port.MAC}
	for _, tc := range []struct {
		name     string
		resolver Resolver
		method   string
		src      string
		want     int
	}{
		{"unknown source", neigh, http.MethodGet, "10.0.0.99:40000", http.StatusNotFound},
		{"host's own address", neigh, http.MethodGet, "10.0.0.1:40000", http.StatusNotFound},
		{"loopback", neigh, http.MethodGet, "127.0.0.1:40000", http.StatusNotFound},
		{"B's IP with A's MAC", spoofed, http.MethodGet, from(b), http.StatusForbidden},
		{"B's IP unresolved", unresolved, http.MethodGet, from(b), http.StatusForbidden},
		{"POST", neigh, http.MethodPost, from(a), http.StatusMethodNotAllowed},
		{"PUT", neigh, http.MethodPut, from(a), http.StatusMethodNotAllowed},
		{"no address", neigh, http.MethodGet, "pipe", http.StatusNotFound},
	} {
		h := newTestHandler(t, HandlerConfig{Guests: guests, Resolver: tc.resolver})
		for _, p := range []string{"/openstack/latest/meta_data.json", "/latest/meta-data/hostname", "/latest/user-data"} {
			w := get(h, tc.method, tc.src, p)
			if w.Code != tc.want {
				t.Errorf("%s %s: %d, want %d", tc.name, p, w.Code, tc.want)
			}
			for _, s := range []string{a.UUID, b.UUID, a.Hostname, b.Hostname, "hello from user data"} {
				if strings.Contains(w.Body.String(), s) {
					t.Errorf("%s %s: the refusal carries %q", tc.name, p, s)
				}
			}
		}
	}
	// The same handler still serves A and B from their own MACs.
	h := newTestHandler(t, HandlerConfig{Guests: guests, Resolver: spoofed})
	if w := get(h, http.MethodGet, from(a), "/latest/meta-data/hostname"); w.Code != http.StatusOK || w.Body.String() != a.Hostname {
		t.Errorf("A from its own MAC: %d %q", w.Code, w.Body)
	}
	// An IPv4-mapped source is the IPv4 address (a dual-stack listener).
	h = newTestHandler(t, HandlerConfig{Guests: guests, Resolver: neigh})
	if w := get(h, http.MethodGet, "[::ffff:"+b.Port.IP.String()+"]:40000", "/latest/meta-data/hostname"); w.Code != http.StatusOK || w.Body.String() != b.Hostname {
		t.Errorf("B through a mapped address: %d %q", w.Code, w.Body)
	}
}

// TestHandlerRateLimit: each guest has its own bucket; past it, 429 with a
// Retry-After; time refills it.
func TestHandlerRateLimit(t *testing.T) {
	a, b, guests, neigh := twoGuests()
	clk := &clock{now: time.Unix(1_700_000_000, 0)}
	h := newTestHandler(t, HandlerConfig{Guests: guests, Resolver: neigh, Rate: 2, Burst: 3, Now: clk.Now})
	code := func(i Instance) int { return get(h, http.MethodGet, from(i), "/latest/meta-data/instance-id").Code }
	for n := range 3 {
		if c := code(a); c != http.StatusOK {
			t.Fatalf("A's request %d: %d, want 200 within the burst", n+1, c)
		}
	}
	w := get(h, http.MethodGet, from(a), "/latest/meta-data/instance-id")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("A past its burst: %d Retry-After %q, want 429 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	if c := code(b); c != http.StatusOK {
		t.Errorf("B while A is limited: %d, want 200 (a bucket per guest)", c)
	}
	clk.advance(500 * time.Millisecond) // one token at 2/s
	if c := code(a); c != http.StatusOK {
		t.Errorf("A after its refill: %d, want 200", c)
	}
	if c := code(a); c != http.StatusTooManyRequests {
		t.Errorf("A again: %d, want 429", c)
	}
	// Refused requests cost the guest nothing: a spoofer cannot drain B.
	spoofed := neighbours{a.Port.IP: a.Port.MAC, b.Port.IP: a.Port.MAC}
	h = newTestHandler(t, HandlerConfig{Guests: guests, Resolver: spoofed, Rate: 2, Burst: 1, Now: clk.Now})
	for range 5 {
		get(h, http.MethodGet, from(b), "/")
	}
	h.cfg.Resolver = neigh
	if c := get(h, http.MethodGet, from(b), "/").Code; c != http.StatusOK {
		t.Errorf("B after refused spoofs: %d, want 200", c)
	}
}

// TestHandlerHead: HEAD answers the headers of GET, no body.
func TestHandlerHead(t *testing.T) {
	a, _, guests, neigh := twoGuests()
	h := newTestHandler(t, HandlerConfig{Guests: guests, Resolver: neigh})
	w := get(h, http.MethodHead, from(a), "/latest/meta-data/hostname")
	if w.Code != http.StatusOK || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "12" {
		t.Errorf("HEAD: %d body %q length %q", w.Code, w.Body, w.Header().Get("Content-Length"))
	}
}

func TestNewHandlerNeedsItsParts(t *testing.T) {
	if _, err := NewHandler(HandlerConfig{Guests: guestMap{}}); err == nil {
		t.Error("a handler without a resolver was made")
	}
	if _, err := NewHandler(HandlerConfig{Resolver: neighbours{}}); err == nil {
		t.Error("a handler without guests was made")
	}
}
