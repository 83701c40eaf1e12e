package link

import (
	"errors"
	"maps"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/arp"
	"github.com/vishvananda/netlink"
)

func TestGratuitousARP(t *testing.T) {
	hw := net.HardwareAddr{0x52, 0x54, 0, 1, 2, 3}
	ip := netip.MustParseAddr("10.66.0.201")
	p, err := GratuitousARP(hw, ip)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back arp.Packet
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Operation != arp.OperationRequest || back.SenderIP != ip || back.TargetIP != ip ||
		back.SenderHardwareAddr.String() != hw.String() || back.TargetHardwareAddr.String() != "00:00:00:00:00:00" {
		t.Fatalf("gratuitous ARP = %+v", back)
	}
}

func TestWantedRoutes(t *testing.T) {
	a := netip.MustParseAddr
	d := Desired{
		Routes:         []Route{{Dst: a("10.78.0.5"), Via: a("10.99.0.12")}, {Dst: a("fd00::1"), Via: a("10.99.0.12")}},
		ExternalRoutes: []netip.Prefix{netip.MustParsePrefix("10.66.0.7/24")},
	}
	got := sortedKeys(wantedRoutes(d, nil))
	if want := []netip.Prefix{netip.MustParsePrefix("10.78.0.5/32")}; !slices.Equal(got, want) {
		t.Fatalf("without an uplink: %v, want %v", got, want)
	}
	up := &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Index: 7}}
	w := wantedRoutes(d, up)
	got = sortedKeys(w)
	if want := []netip.Prefix{netip.MustParsePrefix("10.66.0.0/24"), netip.MustParsePrefix("10.78.0.5/32")}; !slices.Equal(got, want) {
		t.Fatalf("with an uplink: %v, want %v", got, want)
	}
	ext := w[netip.MustParsePrefix("10.66.0.0/24")]
	if ext.LinkIndex != 7 || ext.Gw != nil || ext.Scope != netlink.SCOPE_LINK || ext.Protocol != Protocol {
		t.Fatalf("external route %+v", ext)
	}
	if !sameRoute(netlink.Route{LinkIndex: 7, Scope: netlink.SCOPE_LINK}, ext) || sameRoute(netlink.Route{LinkIndex: 8, Scope: netlink.SCOPE_LINK}, ext) {
		t.Fatal("sameRoute compares on-link routes by device")
	}
}

func TestMinus(t *testing.T) {
	a := netip.MustParseAddr
	got := minus([]netip.Addr{a("10.0.0.3"), a("10.0.0.1"), a("10.0.0.3"), a("10.0.0.2")}, []netip.Addr{a("10.0.0.2")})
	if want := []netip.Addr{a("10.0.0.1"), a("10.0.0.3")}; !slices.Equal(got, want) {
		t.Fatalf("minus = %v, want %v", got, want)
	}
}

func TestOwnedRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), StateFile)
	if o, err := readOwned(path); err != nil || len(o) != 0 {
		t.Fatalf("missing record = %v, %v; want empty", o, err)
	}
	want := owned{netip.MustParseAddr("10.66.0.201"): "eth0", netip.MustParseAddr("10.66.0.9"): "eth1"}
	if err := writeOwned(path, want); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if got := strings.Join(strings.Fields(string(b)), ""); got != `{"floating":[{"addr":"10.66.0.9","link":"eth1"},{"addr":"10.66.0.201","link":"eth0"}]}` {
		t.Errorf("record = %s, want sorted entries", got)
	}
	if o, err := readOwned(path); err != nil || !maps.Equal(o, want) {
		t.Errorf("read back %v, %v; want %v", o, err, want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	// A record that cannot be read is an error, never "nothing recorded":
	// that would leave this node's floating IPs on the uplink for good.
	if err := os.WriteFile(path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readOwned(path); err == nil {
		t.Error("a corrupt record read as empty")
	}
	l := New(Config{StateFile: path})
	defer l.Close()
	var c changes
	l.withdrawFloating(&c, false, func(netip.Addr, string) bool { return false })
	if _, err := c.result(); err == nil {
		t.Error("a record that cannot be read withdrew as if empty")
	}
}

// A node whose data dir is gone (a test's, removed) recorded nothing: its
// guard withdraws nothing, and says so without an error.
func TestWithdrawOwnedWithoutDataDir(t *testing.T) {
	got, err := WithdrawOwned(filepath.Join(t.TempDir(), "gone", StateFile))
	if err != nil || len(got) != 0 {
		t.Errorf("WithdrawOwned without a data dir = %q, %v", got, err)
	}
}

// TestRecordLock: while another process holds the record (the fence guard,
// or a hung agent), a Link's pass fails rather than race it; WithdrawOwned
// (the guard) goes on without the lock.
func TestRecordLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), StateFile)
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	l := New(Config{StateFile: path})
	defer l.Close()
	l.lockWait = 50 * time.Millisecond
	var c changes
	l.withdrawFloating(&c, false, func(netip.Addr, string) bool { return false })
	if _, err := c.result(); !errors.Is(err, errLocked) {
		t.Errorf("withdraw under another's lock = %v, want errLocked", err)
	}
	// Nothing is recorded, so WithdrawOwned has nothing to do: no kernel.
	if got, err := WithdrawOwned(path); err != nil || len(got) != 0 {
		t.Errorf("WithdrawOwned under another's lock = %q, %v; want it to go on", got, err)
	}
	f.Close() // releases the lock
	c = changes{}
	l.withdrawFloating(&c, false, func(netip.Addr, string) bool { return false })
	if _, err := c.result(); err != nil {
		t.Errorf("withdraw once the lock is free = %v", err)
	}
}
