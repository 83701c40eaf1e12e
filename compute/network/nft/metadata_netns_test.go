//go:build netns

package nft

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/compute/metadata"
)

// guestsByIP are the test's guests as the metadata handler finds them.
type guestsByIP map[netip.Addr]metadata.Instance

func (g guestsByIP) Guest(ip netip.Addr) (metadata.Instance, bool) {
	i, ok := g[ip]
	return i, ok
}

// TestMetadataNetns proves the data path on real packets: guests A and B
// behind the test's bridge (gateway 10.88.0.1) ask http://169.254.169.254/
// and reach the metadata handler listening on the gateway at 8775 through
// the DNAT, although their groups allow no egress at all; the handler
// knows each by its source and its MAC in the bridge's real neighbour
// table, so each reads its own hostname. A sending from B's address is
// stopped by anti-spoofing before it reaches the service.
func TestMetadataNetns(t *testing.T) {
	inThrowawayNetns(t)
	h, br := newBridge(t, "10.88.0.1/24")
	const aIP, bIP = "10.88.0.10", "10.88.0.11"
	a := addGuest(t, h, br, "A", "tapaaaaaaaaaaa", "fa:16:3e:00:00:0a", aIP+"/24", bIP+"/32")
	b := addGuest(t, h, br, "B", "tapbbbbbbbbbbb", "fa:16:3e:00:00:0b", bIP+"/24")
	a.route(t, "10.88.0.1")
	b.route(t, "10.88.0.1")

	serveMetadata(t, "10.88.0.1:8775", a, b)

	// Control: without shoal's tables nothing answers there.
	if c, err := a.dial("", MetadataAddr, MetadataPort, dropTimeout); err == nil {
		c.Close()
		t.Fatal("control: 169.254.169.254:80 answered before the DNAT")
	}

	a.port.Groups, b.port.Groups = []string{"none"}, []string{"none"}
	requireApplied(t, Ruleset{
		Tenant:       prefix("10.88.0.0/24"),
		Gateway:      addr("10.88.0.1"),
		Ports:        []Port{a.port, b.port},
		Groups:       []Group{{ID: "none", Members: []netip.Addr{a.port.IP, b.port.IP}}}, // no rule: nothing allowed
		MetadataPort: 8775,
	})
	for _, tc := range []struct {
		g    *guest
		want string
	}{{a, "guest-a"}, {b, "guest-b"}, {a, "guest-a"}} {
		if code, body := metadataGet(t, tc.g, "", "/latest/meta-data/hostname"); code != http.StatusOK || body != tc.want {
			t.Errorf("%s reads %d %q, want 200 %q", tc.g.name, code, body, tc.want)
		}
	}
	// A sending as B: anti-spoofing drops it on A's port.
	if c, err := a.dial(bIP, MetadataAddr, MetadataPort, dropTimeout); err == nil {
		c.Close()
		t.Error("A reached the metadata service from B's address")
	}
	// The groups still allow nothing else: the gateway's other ports stay shut.
	requireDrop(t, a, "", "10.88.0.1", 8776)
}

// TestMetadataColocatedNetns: two nodes in one namespace (a development
// cluster on one machine) share the bridge and the gateway, each with its
// own metadata port and its own guest: n1's A and n2's B. Each node's
// table DNATs only its own guests' requests, so each guest reaches its own
// node's service (which knows only its own guests, and would answer 404 to
// the other's), whichever node's tables were made first.
func TestMetadataColocatedNetns(t *testing.T) {
	inThrowawayNetns(t)
	h, br := newBridge(t, "10.88.0.1/24")
	a := addGuest(t, h, br, "A", "tapaaaaaaaaaaa", "fa:16:3e:00:00:0a", "10.88.0.10/24")
	b := addGuest(t, h, br, "B", "tapbbbbbbbbbbb", "fa:16:3e:00:00:0b", "10.88.0.11/24")
	a.route(t, "10.88.0.1")
	b.route(t, "10.88.0.1")
	serveMetadata(t, "10.88.0.1:8775", a)
	serveMetadata(t, "10.88.0.1:8776", b)

	a.port.Groups, b.port.Groups = []string{"none"}, []string{"none"}
	base := Ruleset{Tenant: prefix("10.88.0.0/24"), Gateway: addr("10.88.0.1"),
		Groups: []Group{{ID: "none", Members: []netip.Addr{a.port.IP, b.port.IP}}}}
	n1, n2 := base, base
	n1.Ports, n1.MetadataPort = []Port{a.port}, 8775
	n2.Ports, n2.MetadataPort = []Port{b.port}, 8776
	t1, t2 := TableFor("n1"), TableFor("n2")
	// Of two NAT chains at one priority the kernel runs the one made last
	// first: both orders are tried.
	for _, order := range [][]string{{t1, t2}, {t2, t1}} {
		for _, table := range []string{t1, t2} {
			if err := Remove(table); err != nil {
				t.Fatal(err)
			}
		}
		for _, table := range order {
			if err := Apply(table, map[string]Ruleset{t1: n1, t2: n2}[table]); err != nil {
				t.Fatalf("Apply %s: %v", table, err)
			}
		}
		for _, tc := range []struct {
			g    *guest
			want string
		}{{a, "guest-a"}, {b, "guest-b"}} {
			if code, body := metadataGet(t, tc.g, "", "/latest/meta-data/hostname"); code != http.StatusOK || body != tc.want {
				t.Errorf("tables made in the order %v: %s reads %d %q, want 200 %q", order, tc.g.name, code, body, tc.want)
			}
		}
	}
}

// serveMetadata runs a metadata handler for guests on addr, in the test's
// namespace (the host's side), finding MACs in br0's neighbour table.
func serveMetadata(t *testing.T, addr string, guests ...*guest) {
	t.Helper()
	resolver, err := metadata.NewNeighbourResolver(func() (string, error) { return "br0", nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(resolver.Close)
	known := guestsByIP{}
	for _, g := range guests {
		known[g.port.IP] = metadata.Instance{UUID: g.name, Hostname: "guest-" + strings.ToLower(g.name),
			Port: metadata.Port{IP: g.port.IP, MAC: g.port.MAC}}
	}
	handler, err := metadata.NewHandler(metadata.HandlerConfig{Resolver: resolver, Guests: known})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// metadataGet asks http://169.254.169.254<p> from g (source from, "" for
// its own address) over one connection.
func metadataGet(t *testing.T, g *guest, from, p string) (int, string) {
	t.Helper()
	c, err := g.dial(from, MetadataAddr, MetadataPort, passTimeout)
	if err != nil {
		t.Fatalf("%s → %s:%d: %v", g.name, MetadataAddr, MetadataPort, err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", p, MetadataAddr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s GET %s: %v", g.name, p, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
