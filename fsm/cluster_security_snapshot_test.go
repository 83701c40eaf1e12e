package fsm_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// securityWorld has join tokens (one used, one revoked), node certificates
// of two nodes (h1's revoked by its removal) and a keyring of two keys; it
// returns the next free index.
func securityWorld(t testing.TB) (*fsm.FSM, uint64) {
	t.Helper()
	f := fsm.New()
	next := mustApply(t, f, 1,
		registerHost("h1", t0),
		newJoinToken("t1", secretA, 2),
		consume("t1", secretA, "h2", t1),
		newJoinToken("t2", secretB, 1),
		&fsm.RevokeJoinToken{ID: "t2"},
		record("01", "h1", t0.Add(day), t0),
		record("02", "h2", t0.Add(2*day), t1),
		&fsm.DeregisterHost{Name: "h1"},
		&fsm.InstallGossipKey{ID: keyA, Sealed: sealedA},
		&fsm.InstallGossipKey{ID: keyB, Sealed: sealedB},
		&fsm.UseGossipKey{ID: keyB},
	)
	return f, next
}

func TestSnapshotRestoreClusterSecurity(t *testing.T) {
	src, next := securityWorld(t)
	snap := snapshotBytes(t, src)
	dst := fsm.New()
	restore(t, dst, snap)

	assertSameReads(t, src, dst)
	if !dst.NodeCertRevoked("01") || dst.NodeCertRevoked("02") {
		t.Error("revocations lost in the snapshot")
	}
	if keys, primary := dst.GossipKeys(); len(keys) != 2 || primary != keyB {
		t.Errorf("keyring after restore: %+v, primary %q", keys, primary)
	}
	if tok, err := dst.JoinToken("t1"); err != nil || tok.Uses != 1 || !reflect.DeepEqual(tok.UsedBy, []string{"h2"}) {
		t.Errorf("JoinToken(t1) after restore: %+v, %v", tok, err)
	}
	if again := snapshotBytes(t, dst); !bytes.Equal(again, snap) {
		t.Errorf("re-snapshot differs:\nfirst  %s\nsecond %s", snap, again)
	}
	// Both replicas go on alike, rules included.
	for _, f := range []*fsm.FSM{src, dst} {
		assertBusinessError(t, applyErr(t, f, next, consume("t2", secretB, "h3", t1)), fsm.ErrUnauthorized)
		assertBusinessError(t, applyErr(t, f, next+1, &fsm.RemoveGossipKey{ID: keyB}), fsm.ErrConflict)
		assertBusinessError(t, applyErr(t, f, next+2, record("01", "h1", t0.Add(day), t1)), fsm.ErrConflict)
		mustApply(t, f, next+3, consume("t1", secretA, "h3", t1), &fsm.RemoveGossipKey{ID: keyA},
			record("03", "h3", t0.Add(3*day), t0.Add(day+time.Second))) // prunes 01
	}
	sameSnapshot(t, "replicas diverged after restore", src, dst)
	if got := serials(dst, ""); got != "02,03" {
		t.Errorf("certs %s after pruning, want 02,03", got)
	}
}

// A snapshot written before cluster security existed (taken from that
// version: a host, a signing key, a revoked token) restores, has no join
// tokens, certificates or gossip keys, snapshots again byte for byte as it
// was, and takes the new commands.
func TestRestoreSnapshotWithoutClusterSecurity(t *testing.T) {
	const old = "{\"cluster_id\":\"c1\",\"index\":4,\"hosts\":{\"h1\":{\"name\":\"h1\",\"gossip_address\":\"h1:7946\",\"raft_address\":\"h1:7000\",\"http_address\":\"h1:8774\",\"enabled\":true,\"vcpus\":0,\"vcpus_free\":0,\"memory_mib\":0,\"memory_free_mib\":0,\"disk_gib\":0,\"disk_free_gib\":0,\"arch\":\"\",\"hypervisor_type\":\"\",\"hypervisor_version\":\"\",\"zone\":\"\",\"instances\":0,\"agent_version\":\"\",\"created\":\"2026-03-01T12:00:00Z\",\"updated\":\"2026-03-01T12:00:00Z\",\"create_index\":2,\"modify_index\":2}},\"flavors\":{},\"images\":{},\"server_groups\":{},\"instances\":{},\"signing_keys\":{\"k1\":{\"id\":\"k1\",\"host\":\"h1\",\"public_key\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\",\"created\":\"2026-03-01T12:00:00Z\",\"create_index\":3,\"modify_index\":3}},\"revoked_tokens\":{\"a1\":{\"audit_id\":\"a1\",\"expires_at\":\"2026-03-01T12:02:00Z\"}}}"
	f := fsm.New()
	restore(t, f, []byte(old))
	if got := snapshotBytes(t, f); string(got) != old {
		t.Errorf("re-snapshot of an old snapshot:\ngot  %s\nwant %s", got, old)
	}
	if n := len(f.JoinTokens()) + len(f.NodeCerts("")); n != 0 {
		t.Errorf("an old snapshot has %d join tokens and certificates", n)
	}
	if keys, primary := f.GossipKeys(); len(keys) != 0 || primary != "" {
		t.Errorf("an old snapshot has gossip keys %+v, primary %q", keys, primary)
	}
	if f.NodeCertRevoked("01") || !f.TokenRevoked("a1") {
		t.Error("reads of an old snapshot are wrong")
	}
	mustApply(t, f, 5, newJoinToken("t1", secretA, 1), record("01", "h1", t0.Add(day), t0),
		&fsm.InstallGossipKey{ID: keyA, Sealed: sealedA}, &fsm.DeregisterHost{Name: "h1"})
	if !f.NodeCertRevoked("01") {
		t.Error("removing a host restored from an old snapshot did not revoke its certificate")
	}
}
