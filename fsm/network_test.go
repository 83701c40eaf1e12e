package fsm_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// offsetIn is ip's offset from the start of cidr.
func offsetIn(cidr, ip string) (uint32, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return 0, false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil || !p.Contains(a) {
		return 0, false
	}
	b, base := a.As4(), p.Masked().Addr().As4()
	return binary.BigEndian.Uint32(b[:]) - binary.BigEndian.Uint32(base[:]), true
}

func sizeOf(cidr string) uint32 {
	return uint32(1) << (32 - netip.MustParsePrefix(cidr).Bits())
}

// addrAt is the address at offset off of cidr.
func addrAt(cidr string, off uint32) string {
	b := netip.MustParsePrefix(cidr).Masked().Addr().As4()
	binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+off)
	return netip.AddrFrom4(b).String()
}

func TestNewNetwork(t *testing.T) {
	for _, tc := range []struct {
		cidr, wantCIDR, wantGateway string
	}{
		{"10.0.0.0/8", "10.0.0.0/8", "10.0.0.1"},
		{"10.88.0.0/16", "10.88.0.0/16", "10.88.0.1"},
		{"192.168.7.0/24", "192.168.7.0/24", "192.168.7.1"},
		{"192.168.7.8/29", "192.168.7.8/29", "192.168.7.9"},
		{"10.1.2.3/24", "10.1.2.0/24", "10.1.2.1"}, // host bits are masked off
		{"172.16.5.77/12", "172.16.0.0/12", "172.16.0.1"},
		{fsm.DefaultNetworkCIDR, "10.88.0.0/16", "10.88.0.1"},
	} {
		t.Run(tc.cidr, func(t *testing.T) {
			n, err := fsm.NewNetwork("net", tc.cidr)
			if err != nil {
				t.Fatalf("NewNetwork(%q): %v", tc.cidr, err)
			}
			if n.Name != "net" || n.CIDR != tc.wantCIDR || n.Gateway != tc.wantGateway {
				t.Errorf("NewNetwork(%q) = %s %s gw %s, want net %s gw %s", tc.cidr, n.Name, n.CIDR, n.Gateway, tc.wantCIDR, tc.wantGateway)
			}
			if n.Allocated == nil || len(n.Allocated) != 0 {
				t.Errorf("Allocated = %v, want an empty map", n.Allocated)
			}
			if n.Cursor != 2 {
				t.Errorf("Cursor = %d, want 2 (network and gateway are never assigned)", n.Cursor)
			}
		})
	}
	for _, cidr := range []string{
		"", "garbage", "10.0.0.0", "10.0.0.1", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/7", "0.0.0.0/0", "10.0.0.0/30", "10.0.0.0/31", "10.0.0.0/32",
		"fd00::/64", "fd00::/120", "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/120",
		"10.0.0.0/24 ", "010.0.0.0/24",
	} {
		t.Run("invalid "+cidr, func(t *testing.T) {
			n, err := fsm.NewNetwork("net", cidr)
			assertBusinessError(t, err, fsm.ErrInvalid)
			if n != nil {
				t.Errorf("NewNetwork(%q) = %+v with error", cidr, n)
			}
			if !strings.Contains(err.Error(), "/8 to /29") {
				t.Errorf("error %q does not say which prefixes are allowed", err)
			}

			// A bootstrap with that CIDR changes nothing: the cluster stays unbootstrapped.
			f := fsm.New()
			before := snapshotBytes(t, f)
			err = applyErr(t, f, 1, &fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors(), NetworkCIDR: cidr})
			if cidr == "" { // no network at all is allowed
				if err != nil {
					t.Fatalf("bootstrap without a network: %v", err)
				}
				if _, ok := f.Network(); ok {
					t.Error("Network() exists after a bootstrap without one")
				}
				return
			}
			assertBusinessError(t, err, fsm.ErrInvalid)
			assertOnlyIndexChanged(t, before, snapshotBytes(t, f), 1)
		})
	}
}

func TestBootstrapNetwork(t *testing.T) {
	w := newWorld(t, "10.20.30.40/24")
	got, ok := w.f.Network()
	want := fsm.NetworkInfo{Name: "default", CIDR: "10.20.30.0/24", Gateway: "10.20.30.1"}
	if !ok || got != want {
		t.Fatalf("Network() = %+v, %v; want %+v", got, ok, want)
	}
	w.create("a", "b")
	if got, _ := w.f.Network(); got.Allocated != 2 {
		t.Errorf("Network().Allocated = %d, want 2", got.Allocated)
	}

	// A cluster bootstrapped without a network cannot create servers.
	f := fsm.New()
	next := mustApply(t, f, 1,
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()},
		&fsm.CreateImage{Image: activeImage(testImage)})
	before := snapshotBytes(t, f)
	err := applyErr(t, f, next, createCmd("a"))
	assertBusinessError(t, err, fsm.ErrConflict)
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), next)
	if !strings.Contains(err.Error(), "no network") {
		t.Errorf("error %q does not say there is no network", err)
	}
}

// Addresses are handed out lowest first, skipping the network address and the
// gateway, identically on every replica.
func TestAllocateLowestFree(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cidr  string
		batch bool // one CreateInstances for all, or one each
	}{
		{"one command /24", "192.168.10.0/24", true},
		{"separate commands /24", "192.168.10.0/24", false},
		{"masked /16", "10.7.99.1/16", true},
		{"/29", "192.168.10.8/29", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.cidr)
			names := []string{"a", "b", "c", "d", "e"}
			if tc.batch {
				w.create(names...)
			} else {
				for _, n := range names {
					w.create(n)
				}
			}
			for k, n := range names {
				if got, want := w.ip(n), addrAt(tc.cidr, uint32(k+2)); got != want {
					t.Errorf("server %s got %s, want %s", n, got, want)
				}
			}
			s := stateOf(t, w.f)
			if s.Network.Cursor != 7 {
				t.Errorf("Cursor = %d, want 7", s.Network.Cursor)
			}
			checkAddresses(t, s)
		})
	}
}

// Releasing an address lowers the cursor, so the lowest freed address is the
// next one handed out, whether the server never left the scheduler or was
// destroyed by its host.
func TestReleaseReusesLowest(t *testing.T) {
	w := newWorld(t, "10.0.0.0/24")
	w.create("a", "b", "c", "d", "e") // .2 .. .6
	w.place("c", "h1")
	w.finish("c")

	w.act("d", fsm.ActionDelete) // pending: removed at once
	w.gone("d")
	if got := stateOf(t, w.f).Network.Cursor; got != 5 {
		t.Errorf("Cursor after releasing .5 = %d, want 5", got)
	}
	w.act("b", fsm.ActionDelete)
	if got := stateOf(t, w.f).Network.Cursor; got != 3 {
		t.Errorf("Cursor after releasing .3 = %d, want 3", got)
	}

	w.act("c", fsm.ActionDelete) // on a host: released when the host reports it destroyed
	if got := w.ip("c"); got != "10.0.0.4" {
		t.Fatalf("deleting server keeps %s, want 10.0.0.4", got)
	}
	w.finish("c")
	w.gone("c")
	checkAddresses(t, stateOf(t, w.f))

	w.create("f", "g", "h", "i")
	for id, want := range map[string]string{"f": "10.0.0.3", "g": "10.0.0.4", "h": "10.0.0.5", "i": "10.0.0.7"} {
		if got := w.ip(id); got != want {
			t.Errorf("server %s got %s, want %s (lowest free first)", id, got, want)
		}
	}
	checkAddresses(t, stateOf(t, w.f))
}

// A /29 has 5 assignable addresses. A request for more than are free fails
// with ErrConflict and changes nothing, cursor included.
func TestAllocateExhaustion(t *testing.T) {
	const cidr = "192.168.0.0/29"
	for _, tc := range []struct {
		name  string
		setup func(w *world)
		ask   int
	}{
		{"six at once on an empty network", func(*world) {}, 6},
		{"sixth after five", func(w *world) { w.create("p1", "p2", "p3", "p4", "p5") }, 1},
		{"three with two free", func(w *world) { w.create("p1", "p2", "p3") }, 3},
		{
			// The cursor points at a taken address when the request comes, and
			// the addresses tried first are above it: the rollback must put the
			// cursor back where it was, not at the lowest address it released.
			"three with two free above a taken cursor",
			func(w *world) {
				w.create("p1", "p2", "p3") // offsets 2 3 4, cursor 5
				w.act("p1", fsm.ActionDelete)
				w.create("p4") // takes 2 again; cursor 3 (taken by p2)
			},
			3,
		},
		{"one on a full network after churn", func(w *world) {
			w.create("p1", "p2", "p3", "p4", "p5")
			w.act("p3", fsm.ActionDelete)
			w.create("p6")
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, cidr)
			tc.setup(w)
			var want []string
			for k := range tc.ask {
				want = append(want, fmt.Sprintf("new%d", k))
			}
			err := w.refuse(createCmd(want...), fsm.ErrConflict)
			if !strings.Contains(err.Error(), "no free fixed IP") {
				t.Errorf("error %q does not say the network is full", err)
			}
			for _, id := range want {
				w.gone(id)
			}
			checkAddresses(t, stateOf(t, w.f))

			// What is free can still be taken, lowest first.
			s := stateOf(t, w.f)
			free := 5 - len(s.Network.Allocated)
			var fill []string
			for k := range free {
				fill = append(fill, fmt.Sprintf("fill%d", k))
			}
			if free > 0 {
				w.create(fill...)
			}
			checkAddresses(t, stateOf(t, w.f))
			w.refuse(createCmd("one-more"), fsm.ErrConflict)
		})
	}
}

// Two instances never share an IP, whatever sequence of creates and deletes
// (pending or on a host) happens; every allocation takes the lowest free
// addresses in request order; and a replica restored from a snapshot at any
// point allocates exactly as the original does from then on.
func TestAllocationProperty(t *testing.T) {
	const cidr = "10.9.8.0/27" // 29 assignable addresses: exhaustion happens
	for _, seed := range []uint64{1, 7, 99, 2026} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 0xfeed))
			w := newWorld(t, cidr)
			var replica *world // restored from a snapshot partway through
			taken := map[uint32]string{}
			next := 0
			full, creates, deletes := 0, 0, 0

			for step := range 600 {
				var cmds []fsm.Command
				var live []string
				for _, i := range w.f.Instances(nil) {
					live = append(live, i.ID)
				}
				free := lowestFree(taken, sizeOf(cidr))
				createOdds := 5
				if len(free) < 4 {
					createOdds = 2 // nearly full: mostly free some up
				}
				switch r := rng.IntN(10); {
				case r < createOdds || len(live) == 0:
					var ask []string
					for range 1 + rng.IntN(4) {
						ask = append(ask, fmt.Sprintf("s%d", next))
						next++
					}
					err := w.apply(createCmd(ask...))
					cmds = append(cmds, createCmd(ask...))
					if len(ask) > len(free) {
						assertBusinessError(t, err, fsm.ErrConflict)
						full++
						break
					}
					if err != nil {
						t.Fatalf("step %d: create %v with %d free: %v", step, ask, len(free), err)
					}
					creates++
					for k, id := range ask {
						if got, want := w.ip(id), addrAt(cidr, free[k]); got != want {
							t.Fatalf("step %d: %s got %s, want lowest free %s", step, id, got, want)
						}
						taken[free[k]] = id
					}
				case r < 7: // delete one that waits for the scheduler, or place it
					id := live[rng.IntN(len(live))]
					i := w.inst(id)
					if i.Pending() && rng.IntN(2) == 0 {
						c := planCmd(fsm.Placement{InstanceID: id, Host: fmt.Sprintf("h%d", 1+rng.IntN(3))})
						cmds = append(cmds, c)
						mustApplyW(w, c)
						break
					}
					c := actionCmd(id, fsm.ActionDelete)
					cmds = append(cmds, c)
					err := w.apply(c)
					if i.TaskState == fsm.TaskDeleting {
						assertBusinessError(t, err, fsm.ErrConflict)
						break
					}
					if err != nil {
						t.Fatalf("step %d: delete %s: %v", step, describe(i), err)
					}
					if i.Host == "" {
						delete(taken, offset(t, cidr, i.Addresses[0].IP))
						deletes++
					}
				default: // hosts report deletions done
					for _, h := range []string{"h1", "h2", "h3"} {
						rep := reportCmd(h)
						for _, i := range w.f.InstancesOnHost(h) {
							if i.TaskState == fsm.TaskDeleting {
								rep.Reports = append(rep.Reports, fsm.InstanceReport{ID: i.ID, Done: fsm.TaskDeleting, TaskIndex: i.TaskIndex})
								delete(taken, offset(t, cidr, i.Addresses[0].IP))
								deletes++
							}
						}
						cmds = append(cmds, rep)
						mustApplyW(w, rep)
					}
				}
				checkAddresses(t, stateOf(t, w.f))
				if len(stateOf(t, w.f).Network.Allocated) != len(taken) {
					t.Fatalf("step %d: %d allocated, model has %d", step, len(stateOf(t, w.f).Network.Allocated), len(taken))
				}

				if replica != nil {
					for _, c := range cmds {
						replica.apply(c)
					}
					if !sameSnapshot(t, fmt.Sprintf("step %d: restored replica diverged", step), w.f, replica.f) {
						t.FailNow()
					}
				}
				if step%150 == 75 {
					replica = &world{t: t, f: fsm.New(), next: w.next}
					restore(t, replica.f, snapshotBytes(t, w.f))
					assertSameReads(t, w.f, replica.f)
				}
			}
			t.Logf("%d creates, %d refused as full, %d deletes", creates, full, deletes)
			if full == 0 || creates < 50 || deletes < 50 {
				t.Errorf("sequence too tame: %d creates, %d full, %d deletes", creates, full, deletes)
			}
		})
	}
}

func mustApplyW(w *world, c fsm.Command) {
	w.t.Helper()
	w.must(c)
}

// lowestFree lists the assignable offsets not in taken, lowest first.
func lowestFree(taken map[uint32]string, size uint32) []uint32 {
	var out []uint32
	for off := uint32(2); off < size-1; off++ {
		if _, ok := taken[off]; !ok {
			out = append(out, off)
		}
	}
	return out
}

var macPattern = regexp.MustCompile(`^fa:16:3e(:[0-9a-f]{2}){3}$`)

// expectedMAC is the documented derivation: the first three bytes of
// sha256("<id>/<salt>") after OpenStack's fa:16:3e prefix. Every replica, of
// every version, must derive the same MAC, so the derivation is pinned.
func expectedMAC(id string, salt int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", id, salt))
	return fmt.Sprintf("fa:16:3e:%02x:%02x:%02x", sum[0], sum[1], sum[2])
}

func TestMACs(t *testing.T) {
	w := newWorld(t, "10.0.0.0/16")
	var all []string
	for k := range 20 {
		var batch []string
		for j := range 10 {
			batch = append(batch, fmt.Sprintf("m-%d-%d", k, j))
		}
		w.create(batch...)
		all = append(all, batch...)
	}
	seen := map[string]string{}
	for _, id := range all {
		i := w.inst(id)
		mac := i.Addresses[0].MAC
		if !macPattern.MatchString(mac) {
			t.Errorf("server %s MAC %q is not fa:16:3e:xx:xx:xx", id, mac)
		}
		if other, dup := seen[mac]; dup {
			t.Errorf("servers %s and %s share MAC %s", other, id, mac)
		}
		seen[mac] = id
		if mac != expectedMAC(id, 0) {
			t.Errorf("server %s MAC %s, want %s", id, mac, expectedMAC(id, 0))
		}
	}
	// Golden values: a change here changes MACs on upgraded replicas only.
	if got := expectedMAC("i-1", 0); got != "fa:16:3e:87:18:af" {
		t.Errorf("derivation changed: i-1 → %s", got)
	}

	// Stable per ID: the same ID gets the same MAC whatever else exists, and
	// again after it is deleted and created anew.
	other := newWorld(t, "172.16.0.0/12")
	other.create("x", "y", "m-3-3")
	if a, b := w.inst("m-3-3").Addresses[0].MAC, other.inst("m-3-3").Addresses[0].MAC; a != b {
		t.Errorf("MAC of m-3-3 differs between clusters: %s vs %s", a, b)
	}
	mac := w.inst("m-0-0").Addresses[0].MAC
	w.act("m-0-0", fsm.ActionDelete)
	w.create("m-0-0")
	if got := w.inst("m-0-0").Addresses[0].MAC; got != mac {
		t.Errorf("recreated m-0-0 got MAC %s, had %s", got, mac)
	}
	checkDerived(t, w.f)
}

// i-3921 and i-4804 derive the same first MAC; the second one to be created
// must get another, including when the first came from a restored snapshot
// (the MAC index is derived state, rebuilt on restore).
func TestMACCollision(t *testing.T) {
	const a, b = "i-3921", "i-4804"
	if expectedMAC(a, 0) != expectedMAC(b, 0) {
		t.Fatal("the test IDs no longer collide")
	}
	for _, tc := range []struct {
		name    string
		restore bool
		batch   bool
	}{
		{"separate commands", false, false},
		{"one command", false, true},
		{"after restore", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			if tc.batch {
				w.create(a, b)
			} else {
				w.create(a)
				if tc.restore {
					r := &world{t: t, f: fsm.New(), next: w.next}
					restore(t, r.f, snapshotBytes(t, w.f))
					w = r
				}
				w.create(b)
			}
			if got := w.inst(a).Addresses[0].MAC; got != expectedMAC(a, 0) {
				t.Errorf("%s MAC %s, want %s", a, got, expectedMAC(a, 0))
			}
			if got := w.inst(b).Addresses[0].MAC; got != expectedMAC(b, 1) {
				t.Errorf("%s MAC %s, want the salted %s", b, got, expectedMAC(b, 1))
			}
			checkDerived(t, w.f)

			// Once a is gone its MAC is free again: a recreated a gets its
			// first choice back, and b keeps its own.
			w.act(a, fsm.ActionDelete)
			w.create(a)
			if got := w.inst(a).Addresses[0].MAC; got != expectedMAC(a, 0) {
				t.Errorf("recreated %s MAC %s, want %s", a, got, expectedMAC(a, 0))
			}
			if got := w.inst(b).Addresses[0].MAC; got != expectedMAC(b, 1) {
				t.Errorf("%s MAC changed to %s", b, got)
			}
			checkDerived(t, w.f)
		})
	}
}
