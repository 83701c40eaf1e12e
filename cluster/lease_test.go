package cluster

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestLeaseRenewalAndExpiry(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLease(5*time.Second, c.now)
	if l.Valid() {
		t.Fatal("a new lease must start expired: a node runs nothing before its first grant")
	}
	sent := c.t
	c.advance(2 * time.Second) // the grant arrives late
	l.Renewed(sent)
	if got := l.Remaining(); got != 3*time.Second {
		t.Fatalf("remaining = %v, want 3s (measured from when the node asked)", got)
	}
	l.Renewed(sent.Add(-time.Second)) // an even older answer
	if got := l.Remaining(); got != 3*time.Second {
		t.Fatalf("an old answer shortened the lease to %v", got)
	}
	c.advance(3 * time.Second)
	if l.Valid() {
		t.Fatal("lease still valid at its end")
	}
	l.Renewed(c.t)
	if !l.Valid() {
		t.Fatal("a fresh grant must make the lease valid again")
	}
}

func TestGrantsFencedOnlyAfterLeasePlusMargin(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	g := NewGrants(5*time.Second, 2*time.Second, c.now)
	for _, tc := range []struct {
		after  time.Duration
		fenced bool
	}{{0, false}, {6 * time.Second, false}, {7 * time.Second, false}, {7*time.Second + 1, true}} {
		cc := &clock{t: c.t.Add(tc.after)}
		g.now = cc.now
		if got := g.Fenced("n1"); got != tc.fenced {
			t.Fatalf("%v after a leader change with no grant: fenced = %v, want %v (grace after election)", tc.after, got, tc.fenced)
		}
	}
	g.now = c.now
	c.advance(10 * time.Second)
	g.Grant("n1")
	c.advance(7 * time.Second)
	if g.Fenced("n1") {
		t.Fatal("fenced exactly at lease + margin after the last grant")
	}
	c.advance(time.Millisecond)
	if !g.Fenced("n1") {
		t.Fatal("not fenced past lease + margin after the last grant")
	}
	if !g.Fenced("never-granted") {
		t.Fatal("a node this leader never granted is fenced once the grace after election is over")
	}
}

func TestLeaseRestoreAndGrantsQueries(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	l := NewLease(5*time.Second, c.now)
	l.Restore(c.t.Add(2 * time.Second)) // what the previous run recorded
	if !l.Valid() || l.Expires() != c.t.Add(2*time.Second) {
		t.Fatalf("restored lease: valid %v, expires %v", l.Valid(), l.Expires())
	}
	l.Restore(c.t.Add(time.Second))
	if l.Expires() != c.t.Add(2*time.Second) {
		t.Fatal("Restore shortened the lease")
	}
	g := NewGrants(5*time.Second, 3*time.Second, c.now)
	start := c.t
	if g.Holds("n1") || g.LastSeen("n1") != start {
		t.Fatal("a node never granted holds nothing and was last seen when the term began")
	}
	c.advance(time.Second)
	g.Grant("n1")
	if !g.Holds("n1") || g.LastSeen("n1") != c.t {
		t.Fatal("a fresh grant is held and is the last sighting")
	}
	c.advance(5 * time.Second)
	if g.Holds("n1") {
		t.Fatal("a grant older than the lease is not held")
	}
}

// While the leader commits a down verdict, the condemned node gets no grant:
// it can never re-read the FSM just before the verdict lands.
func TestCondemnedNodeGetsNoGrant(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	g := NewGrants(5*time.Second, 3*time.Second, c.now)
	g.Grant("n1")
	if g.Condemn("n1") {
		t.Fatal("a node holding a lease was condemned")
	}
	c.advance(8*time.Second + time.Millisecond)
	if !g.Condemn("n1") {
		t.Fatal("a certainly fenced node was not condemned")
	}
	if g.Grant("n1") {
		t.Fatal("a condemned node was granted a lease")
	}
	g.Pardon("n1")
	if !g.Grant("n1") || g.Fenced("n1") {
		t.Fatal("after the verdict the node is granted again")
	}
}
