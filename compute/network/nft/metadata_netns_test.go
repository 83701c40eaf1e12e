//go:build netns

package nft

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
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

	resolver, err := metadata.NewNeighbourResolver(func() (string, error) { return "br0", nil })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(resolver.Close)
	handler, err := metadata.NewHandler(metadata.HandlerConfig{Resolver: resolver, Guests: guestsByIP{
		a.port.IP: {UUID: "a", Hostname: "guest-a", Port: metadata.Port{IP: a.port.IP, MAC: a.port.MAC}},
		b.port.IP: {UUID: "b", Hostname: "guest-b", Port: metadata.Port{IP: b.port.IP, MAC: b.port.MAC}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp4", "10.88.0.1:8775") // in the test's namespace: the host's side
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// Control: without shoal's tables nothing answers there.
	if c, err := a.dial("", MetadataAddr, MetadataPort, dropTimeout); err == nil {
		c.Close()
		t.Fatal("control: 169.254.169.254:80 answered before the DNAT")
	}

	a.port.Groups, b.port.Groups = []string{"none"}, []string{"none"}
	requireApplied(t, Ruleset{
		Tenant:   prefix("10.88.0.0/24"),
		Ports:    []Port{a.port, b.port},
		Groups:   []Group{{ID: "none", Members: []netip.Addr{a.port.IP, b.port.IP}}}, // no rule: nothing allowed
		Metadata: netip.MustParseAddrPort("10.88.0.1:8775"),
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
