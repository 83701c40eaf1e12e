package fsm_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Secret hashes and gossip key IDs of the right shape; the fsm checks shapes only.
var (
	secretA = strings.Repeat("a1", 32)
	secretB = strings.Repeat("b2", 32)
	keyA    = "00112233445566aa"
	keyB    = "00112233445566bb"
	sealedA = bytes.Repeat([]byte{0xa}, 60)
	sealedB = bytes.Repeat([]byte{0xb}, 60)
)

// newJoinToken is a token created at t0 by u-admin, good for an hour.
func newJoinToken(id, hash string, uses int) *fsm.CreateJoinToken {
	return &fsm.CreateJoinToken{ID: id, SecretHash: hash, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), MaxUses: uses, CreatedBy: "u-admin"}
}

func consume(id, hash, node string, now time.Time) *fsm.ConsumeJoinToken {
	return &fsm.ConsumeJoinToken{ID: id, SecretHash: hash, Node: node, Now: now}
}

// refused applies c at index, checks it fails with want and changes nothing
// but the applied index, and returns the error.
func refused(t *testing.T, f *fsm.FSM, index uint64, c fsm.Command, want error) error {
	t.Helper()
	before := snapshotBytes(t, f)
	err := applyErr(t, f, index, c)
	assertBusinessError(t, err, want)
	assertOnlyIndexChanged(t, before, snapshotBytes(t, f), index)
	return err
}

func TestCreateJoinToken(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, newJoinToken("t1", secretA, 2))
	want := fsm.JoinToken{ID: "t1", SecretHash: secretA, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), MaxUses: 2, CreatedBy: "u-admin",
		Indexes: fsm.Indexes{CreateIndex: 1, ModifyIndex: 1}}
	if got, err := f.JoinToken("t1"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("JoinToken(t1) = %+v, %v; want %+v", got, err, want)
	}
	if got := f.JoinTokens(); !reflect.DeepEqual(got, []fsm.JoinToken{want}) {
		t.Errorf("JoinTokens() = %+v", got)
	}
	if _, err := f.JoinToken("t2"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("JoinToken(t2) = %v, want ErrNotFound", err)
	}

	for _, tc := range []struct {
		name   string
		change func(*fsm.CreateJoinToken)
		want   error
	}{
		{"empty ID", func(c *fsm.CreateJoinToken) { c.ID = "" }, fsm.ErrInvalid},
		{"control character in the ID", func(c *fsm.CreateJoinToken) { c.ID = "t\n" }, fsm.ErrInvalid},
		{"short hash", func(c *fsm.CreateJoinToken) { c.SecretHash = secretA[:63] }, fsm.ErrInvalid},
		{"long hash", func(c *fsm.CreateJoinToken) { c.SecretHash = secretA + "0" }, fsm.ErrInvalid},
		{"uppercase hash", func(c *fsm.CreateJoinToken) { c.SecretHash = strings.ToUpper(secretB) }, fsm.ErrInvalid},
		{"hash not hex", func(c *fsm.CreateJoinToken) { c.SecretHash = strings.Repeat("g", 64) }, fsm.ErrInvalid},
		{"no uses", func(c *fsm.CreateJoinToken) { c.MaxUses = 0 }, fsm.ErrInvalid},
		{"negative uses", func(c *fsm.CreateJoinToken) { c.MaxUses = -1 }, fsm.ErrInvalid},
		{"too many uses", func(c *fsm.CreateJoinToken) { c.MaxUses = 1001 }, fsm.ErrInvalid},
		{"no creation time", func(c *fsm.CreateJoinToken) { c.CreatedAt = time.Time{} }, fsm.ErrInvalid},
		{"expires when created", func(c *fsm.CreateJoinToken) { c.ExpiresAt = c.CreatedAt }, fsm.ErrInvalid},
		{"expires before created", func(c *fsm.CreateJoinToken) { c.ExpiresAt = c.CreatedAt.Add(-time.Second) }, fsm.ErrInvalid},
		{"control character in the creator", func(c *fsm.CreateJoinToken) { c.CreatedBy = "u\x00" }, fsm.ErrInvalid},
		{"ID taken", func(c *fsm.CreateJoinToken) { c.ID = "t1" }, fsm.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newJoinToken("t2", secretB, 1)
			tc.change(c)
			refused(t, f, 2, c, tc.want)
		})
	}
	// The edges are allowed; no creator is too (a token a node made).
	c := newJoinToken("t3", secretB, 1000)
	c.CreatedBy = ""
	mustApply(t, f, 3, c)
}

func TestConsumeJoinToken(t *testing.T) {
	world := func(t *testing.T) *fsm.FSM {
		f := fsm.New()
		mustApply(t, f, 1, newJoinToken("t1", secretA, 2), newJoinToken("t2", secretB, 1), &fsm.RevokeJoinToken{ID: "t2"},
			newJoinToken("t3", secretB, 1), consume("t3", secretB, "n0", t1))
		return f
	}
	expires := t0.Add(time.Hour)
	for _, tc := range []struct {
		name string
		c    *fsm.ConsumeJoinToken
		want error
		text string // the whole message, for refusals of the token
	}{
		{"unknown ID", consume("t9", secretA, "n1", t1), fsm.ErrUnauthorized, "join token not recognised"},
		{"wrong secret", consume("t1", secretB, "n1", t1), fsm.ErrUnauthorized, "join token not recognised"},
		{"revoked", consume("t2", secretB, "n1", t1), fsm.ErrUnauthorized, "join token revoked"},
		{"expired", consume("t1", secretA, "n1", expires), fsm.ErrUnauthorized, "join token expired at 2026-03-01T13:00:00Z"},
		{"long expired", consume("t1", secretA, "n1", expires.Add(48*time.Hour)), fsm.ErrUnauthorized, "join token expired at 2026-03-01T13:00:00Z"},
		{"used up", consume("t3", secretB, "n1", t1), fsm.ErrUnauthorized, "join token already used (1 of 1 uses)"},
		{"empty ID", consume("", secretA, "n1", t1), fsm.ErrInvalid, ""},
		{"malformed hash", consume("t1", "abc", "n1", t1), fsm.ErrInvalid, ""},
		{"no node", consume("t1", secretA, "", t1), fsm.ErrInvalid, ""},
		{"control character in the node", consume("t1", secretA, "n\r", t1), fsm.ErrInvalid, ""},
		{"no time", consume("t1", secretA, "n1", time.Time{}), fsm.ErrInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := world(t)
			err := refused(t, f, 6, tc.c, tc.want)
			if tc.text != "" && err.Error() != tc.text {
				t.Errorf("message %q, want %q", err, tc.text)
			}
		})
	}

	f := world(t)
	mustApply(t, f, 6, consume("t1", secretA, "n1", expires.Add(-time.Nanosecond)))
	got, _ := f.JoinToken("t1")
	if got.Uses != 1 || !reflect.DeepEqual(got.UsedBy, []string{"n1"}) || got.ModifyIndex != 6 || got.CreateIndex != 1 {
		t.Errorf("after one use: %+v", got)
	}
}

// A token admits MaxUses nodes, in order, and then no more.
func TestJoinTokenUsedUp(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1, newJoinToken("t1", secretA, 3))
	next = mustApply(t, f, next, consume("t1", secretA, "n1", t1), consume("t1", secretA, "n2", t1), consume("t1", secretA, "n1", t2))
	err := refused(t, f, next, consume("t1", secretA, "n4", t2), fsm.ErrUnauthorized)
	if want := "join token already used (3 of 3 uses)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	got, _ := f.JoinToken("t1")
	if got.Uses != 3 || !reflect.DeepEqual(got.UsedBy, []string{"n1", "n2", "n1"}) {
		t.Errorf("Uses %d, UsedBy %v; want 3, [n1 n2 n1]", got.Uses, got.UsedBy)
	}
}

// Tokens are pruned a day after they expire, by the Now of a successful
// create or consume; a refused consume prunes nothing.
func TestJoinTokenPrune(t *testing.T) {
	f := fsm.New()
	long := newJoinToken("long", secretB, 5)
	long.ExpiresAt = t0.Add(72 * time.Hour)
	next := mustApply(t, f, 1, newJoinToken("old", secretA, 1), long) // old expires at t0+1h
	dayAfter := t0.Add(time.Hour + 24*time.Hour)

	ids := func() string {
		var out []string
		for _, tok := range f.JoinTokens() {
			out = append(out, tok.ID)
		}
		return strings.Join(out, ",")
	}
	at := func(id string, created time.Time) *fsm.CreateJoinToken {
		c := newJoinToken(id, secretA, 1)
		c.CreatedAt, c.ExpiresAt = created, created.Add(time.Hour)
		return c
	}
	next = mustApply(t, f, next, at("n1", dayAfter)) // exactly a day: kept
	if got := ids(); got != "long,old,n1" {
		t.Fatalf("tokens %s, want long,old,n1", got)
	}
	refused(t, f, next, consume("long", secretA, "x", dayAfter.Add(time.Second)), fsm.ErrUnauthorized)
	if got := ids(); got != "long,old,n1" {
		t.Fatalf("a refused consume pruned: tokens %s", got)
	}
	next = mustApply(t, f, next+1, consume("long", secretB, "x", dayAfter.Add(time.Second)))
	if got := ids(); got != "long,n1" {
		t.Fatalf("tokens %s after a consume past old's day, want long,n1", got)
	}
	mustApply(t, f, next, at("n2", t0.Add(100*time.Hour)))
	if got := ids(); got != "n2" {
		t.Errorf("tokens %s, want n2", got)
	}
}

func TestRevokeJoinToken(t *testing.T) {
	f := fsm.New()
	next := mustApply(t, f, 1, newJoinToken("t1", secretA, 1), &fsm.RevokeJoinToken{ID: "t1"})
	got, _ := f.JoinToken("t1")
	if !got.Revoked || got.ModifyIndex != 2 {
		t.Errorf("after revoke: %+v", got)
	}
	next = mustApply(t, f, next, &fsm.RevokeJoinToken{ID: "t1"})
	if again, _ := f.JoinToken("t1"); again.ModifyIndex != 2 {
		t.Errorf("a second revoke changed the token: %+v", again)
	}
	refused(t, f, next, &fsm.RevokeJoinToken{ID: "t9"}, fsm.ErrNotFound)
	refused(t, f, next+1, &fsm.RevokeJoinToken{ID: ""}, fsm.ErrInvalid)
}

// Reads are copies: changing what they return changes nothing in the state.
func TestClusterSecurityReadsAreCopies(t *testing.T) {
	f := fsm.New()
	mustApply(t, f, 1, newJoinToken("t1", secretA, 2), consume("t1", secretA, "n1", t1),
		&fsm.InstallGossipKey{ID: keyA, Sealed: sealedA})
	before := snapshotBytes(t, f)
	tok, _ := f.JoinToken("t1")
	tok.UsedBy[0] = "evil"
	f.JoinTokens()[0].UsedBy[0] = "evil"
	keys, _ := f.GossipKeys()
	keys[0].Sealed[0] = 0xff
	if after := snapshotBytes(t, f); !bytes.Equal(before, after) {
		t.Errorf("a reader changed the state:\nbefore %s\nafter  %s", before, after)
	}
}
