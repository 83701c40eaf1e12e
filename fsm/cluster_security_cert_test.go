package fsm_test

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

const day = 24 * time.Hour

func record(serial, node string, notAfter, now time.Time) *fsm.RecordNodeCert {
	return &fsm.RecordNodeCert{Serial: serial, Node: node, NotAfter: notAfter, Now: now}
}

// serials lists the serials NodeCerts(node) returns, with a "!" on revoked ones.
func serials(f *fsm.FSM, node string) string {
	var out []string
	for _, c := range f.NodeCerts(node) {
		s := c.Serial
		if c.Revoked {
			s += "!"
		}
		out = append(out, s)
	}
	return strings.Join(out, ",")
}

func TestRecordNodeCert(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1, record("0a", "h1", t0.Add(30*day), t0), record("0b", "h2", t0.Add(20*day), t0))
	want := fsm.NodeCert{Serial: "0a", Node: "h1", NotAfter: t0.Add(30 * day), Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: 1}}
	if got := f.NodeCerts("h1"); !reflect.DeepEqual(got, []fsm.NodeCert{want}) {
		t.Errorf("NodeCerts(h1) = %+v, want %+v", got, want)
	}
	if got := serials(f, ""); got != "0b,0a" { // by expiry
		t.Errorf("NodeCerts() = %s, want 0b,0a", got)
	}
	if f.NodeCertRevoked("0a") || f.NodeCertRevoked("ff") {
		t.Error("an unrevoked or unknown serial reads as revoked")
	}
	// The same record again (a retried proposal) succeeds and changes nothing.
	before := snapshotBytes(t, f)
	next = mustApply(t, f, next, record("0a", "h1", t0.Add(30*day), t1))
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), next-1)

	for _, tc := range []struct {
		name string
		c    *fsm.RecordNodeCert
		want error
	}{
		{"empty serial", record("", "h1", t0.Add(day), t0), fsm.ErrInvalid},
		{"uppercase serial", record("0A", "h1", t0.Add(day), t0), fsm.ErrInvalid},
		{"serial not hex", record("0x1", "h1", t0.Add(day), t0), fsm.ErrInvalid},
		{"serial too long", record(strings.Repeat("f", 41), "h1", t0.Add(day), t0), fsm.ErrInvalid},
		{"no node", record("0c", "", t0.Add(day), t0), fsm.ErrInvalid},
		{"control character in the node", record("0c", "h\n", t0.Add(day), t0), fsm.ErrInvalid},
		{"no time", record("0c", "h1", t0.Add(day), time.Time{}), fsm.ErrInvalid},
		{"expired already", record("0c", "h1", t0, t0), fsm.ErrInvalid},
		{"serial of another node", record("0a", "h2", t0.Add(30*day), t0), fsm.ErrConflict},
		{"serial with another expiry", record("0a", "h1", t0.Add(31*day), t0), fsm.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, f, next, tc.c, tc.want)
		})
	}
	mustApply(t, f, next, record(strings.Repeat("f", 40), "h1", t0.Add(day), t0)) // RFC 5280's longest serial

	// A revoked serial cannot be recorded again, even identically.
	g := fsm.New()
	mustApply(t, g, 1, record("0a", "h1", t0.Add(30*day), t0), &fsm.RevokeNodeCerts{Node: "h1"})
	refused(t, g, 3, record("0a", "h1", t0.Add(30*day), t0), fsm.ErrConflict)
}

// RecordNodeCert prunes the records of certificates expired by its Now,
// revoked ones too: an expired certificate is refused anyway.
func TestNodeCertPrune(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1,
		record("01", "h1", t0.Add(day), t0),
		record("02", "h2", t0.Add(2*day), t0),
		record("03", "h2", t0.Add(3*day), t0),
		&fsm.RevokeNodeCerts{Node: "h2"},
	)
	next = mustApply(t, f, next, record("04", "h1", t0.Add(30*day), t0.Add(2*day))) // 02 expires at Now: kept
	if got := serials(f, ""); got != "02!,03!,04" {
		t.Fatalf("certs %s, want 02!,03!,04", got)
	}
	mustApply(t, f, next, record("05", "h1", t0.Add(30*day), t0.Add(3*day).Add(time.Nanosecond)))
	if got := serials(f, ""); got != "04,05" {
		t.Errorf("certs %s, want 04,05", got)
	}
	if f.NodeCertRevoked("03") {
		t.Error("a pruned record still reads as revoked")
	}
}

func TestRevokeNodeCerts(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1,
		record("01", "h1", t0.Add(day), t0),
		record("02", "h1", t0.Add(2*day), t0),
		record("03", "h2", t0.Add(2*day), t0),
		&fsm.RevokeNodeCerts{Node: "h1"},
	)
	if got := serials(f, ""); got != "01!,02!,03" {
		t.Errorf("certs %s, want 01!,02!,03", got)
	}
	if !f.NodeCertRevoked("01") || !f.NodeCertRevoked("02") || f.NodeCertRevoked("03") {
		t.Error("NodeCertRevoked disagrees with the records")
	}
	if c := f.NodeCerts("h1")[0]; c.ModifyIndex != 4 || c.CreateIndex != 1 {
		t.Errorf("revoked record indexes %+v, want create 1 modify 4", c.Indexes)
	}
	// Revoking again succeeds and changes nothing.
	before := snapshotBytes(t, f)
	next = mustApply(t, f, next, &fsm.RevokeNodeCerts{Node: "h1"})
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), next-1)

	refused(t, f, next, &fsm.RevokeNodeCerts{Node: "h9"}, fsm.ErrNotFound)
	refused(t, f, next, &fsm.RevokeNodeCerts{Node: ""}, fsm.ErrInvalid)
}

// Removing a host record revokes its node's certificates in the same Apply.
func TestDeregisterHostRevokesNodeCerts(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1,
		registerHost("h1", t0),
		registerHost("h2", t0),
		record("01", "h1", t0.Add(day), t0),
		record("02", "h2", t0.Add(day), t0),
		&fsm.DeregisterHost{Name: "h1"},
	)
	if got := serials(f, ""); got != "01!,02" {
		t.Errorf("certs %s, want 01!,02", got)
	}
	if !f.NodeCertRevoked("01") || f.NodeCertRevoked("02") {
		t.Error("NodeCertRevoked disagrees: want 01 revoked, 02 not")
	}
	// An unknown host is refused and revokes nothing.
	refused(t, f, next, &fsm.DeregisterHost{Name: "h2x"}, fsm.ErrNotFound)
	// A host without recorded certificates goes as before.
	mustApply(t, f, next+1, registerHost("h3", t0), &fsm.DeregisterHost{Name: "h3"})
	// The node joins again: its new certificate is good.
	mustApply(t, f, next+3, record("0c", "h1", t0.Add(day), t1))
	if f.NodeCertRevoked("0c") || !f.NodeCertRevoked("01") {
		t.Error("a rejoined node's new certificate is refused, or its old one allowed")
	}
}

// The keyring rotation: install, use, remove the old; the primary cannot go.
func TestGossipKeyRotation(t *testing.T) {
	f := fsm.New()
	if keys, primary := f.GossipKeys(); len(keys) != 0 || primary != "" {
		t.Fatalf("empty state has keys %+v, primary %q", keys, primary)
	}
	ring := func(wantIDs, wantPrimary string) {
		t.Helper()
		keys, primary := f.GossipKeys()
		var ids []string
		for _, k := range keys {
			ids = append(ids, k.ID)
		}
		if got := strings.Join(ids, ","); got != wantIDs || primary != wantPrimary {
			t.Errorf("keyring %s primary %q, want %s primary %q", got, primary, wantIDs, wantPrimary)
		}
	}
	next := mustApply(t, f, 1, &fsm.InstallGossipKey{ID: keyA, Sealed: sealedA})
	ring(keyA, keyA) // the first key is the primary

	next = mustApply(t, f, next, &fsm.InstallGossipKey{ID: keyB, Sealed: sealedB})
	ring(keyA+","+keyB, keyA)
	err := refused(t, f, next, &fsm.RemoveGossipKey{ID: keyA}, fsm.ErrConflict)
	if !strings.Contains(err.Error(), "primary") {
		t.Errorf("removing the primary: %q does not say why", err)
	}

	next = mustApply(t, f, next, &fsm.UseGossipKey{ID: keyB})
	ring(keyA+","+keyB, keyB)
	next = mustApply(t, f, next, &fsm.UseGossipKey{ID: keyB}) // again: unchanged
	next = mustApply(t, f, next, &fsm.RemoveGossipKey{ID: keyA})
	ring(keyB, keyB)
	keys, _ := f.GossipKeys()
	if want := (fsm.GossipKey{ID: keyB, Sealed: sealedB, Indexes: fsm.Indexes{CreateIndex: 2, ModifyIndex: 2}}); !reflect.DeepEqual(keys, []fsm.GossipKey{want}) {
		t.Errorf("GossipKeys() = %+v, want %+v", keys, want)
	}
	refused(t, f, next, &fsm.RemoveGossipKey{ID: keyB}, fsm.ErrConflict) // the last key is the primary

	for _, tc := range []struct {
		name string
		c    fsm.Command
		want error
	}{
		{"install an installed key", &fsm.InstallGossipKey{ID: keyB, Sealed: sealedA}, fsm.ErrConflict},
		{"install with an empty ID", &fsm.InstallGossipKey{ID: "", Sealed: sealedA}, fsm.ErrInvalid},
		{"install with a short ID", &fsm.InstallGossipKey{ID: keyA[:15], Sealed: sealedA}, fsm.ErrInvalid},
		{"install with an uppercase ID", &fsm.InstallGossipKey{ID: strings.ToUpper(keyA), Sealed: sealedA}, fsm.ErrInvalid},
		{"install nothing", &fsm.InstallGossipKey{ID: keyA}, fsm.ErrInvalid},
		{"install too much", &fsm.InstallGossipKey{ID: keyA, Sealed: make([]byte, 257)}, fsm.ErrInvalid},
		{"use an unknown key", &fsm.UseGossipKey{ID: keyA}, fsm.ErrNotFound},
		{"use an empty ID", &fsm.UseGossipKey{ID: ""}, fsm.ErrInvalid},
		{"remove an unknown key", &fsm.RemoveGossipKey{ID: keyA}, fsm.ErrNotFound},
		{"remove an empty ID", &fsm.RemoveGossipKey{ID: ""}, fsm.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused(t, f, next, tc.c, tc.want)
		})
	}
	mustApply(t, f, next, &fsm.InstallGossipKey{ID: keyA, Sealed: make([]byte, 256)})
	ring(keyA+","+keyB, keyB) // an installed key waits to be used
}

// NodeCertRevoked is on every handshake and internal request: one lookup,
// nothing copied, whatever the number of records.
func TestNodeCertRevokedAllocatesNothing(t *testing.T) {
	f := manyCerts(t, 1000)
	if n := testing.AllocsPerRun(100, func() { f.NodeCertRevoked("3e7") }); n != 0 {
		t.Errorf("NodeCertRevoked allocates %.0f times per call, want 0", n)
	}
	if !f.NodeCertRevoked("1") || f.NodeCertRevoked("3e7") || f.NodeCertRevoked("fff") {
		t.Error("NodeCertRevoked disagrees with the records")
	}
}

func BenchmarkNodeCertRevoked(b *testing.B) {
	f := manyCerts(b, 1000)
	for b.Loop() {
		f.NodeCertRevoked("3e7")
	}
}

// manyCerts records n certificates, serials 1 to n in hex, of nodes n0 to
// n9, and revokes n1's.
func manyCerts(t testing.TB, n int) *fsm.FSM {
	t.Helper()
	f := fsm.New()
	for i := 1; i <= n; i++ {
		mustApply(t, f, uint64(i), record(strconv.FormatInt(int64(i), 16), fmt.Sprintf("n%d", i%10), t0.Add(day), t0))
	}
	mustApply(t, f, uint64(n+1), &fsm.RevokeNodeCerts{Node: "n1"})
	return f
}
