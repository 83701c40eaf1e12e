package cluster

import (
	"sync"
	"time"
)

// Lease is a node's permission to run its domains. It is renewed only by a
// grant from a leader that still has quorum, and it is measured from when the
// node asked (never from when the answer arrived), so the node's lease always
// ends before the leader believes it does. A node whose lease has expired
// fences itself: it stops its domains and starts none.
//
// This is the node half of the failover design (see DESIGN.md); the leader
// half is Grants.
type Lease struct {
	mu       sync.Mutex
	duration time.Duration
	expires  time.Time
	now      func() time.Time
}

// NewLease returns an expired lease of the given duration; now may be nil.
func NewLease(duration time.Duration, now func() time.Time) *Lease {
	if now == nil {
		now = time.Now
	}
	return &Lease{duration: duration, now: now}
}

// Renewed records a grant for a request sent at sentAt. A late answer to an
// old request never shortens the lease.
func (l *Lease) Renewed(sentAt time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := sentAt.Add(l.duration); e.After(l.expires) {
		l.expires = e
	}
}

// Restore sets the expiry recorded by an earlier run of the agent (a restart
// keeps the lease it held). It never shortens the lease.
func (l *Lease) Restore(expires time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if expires.After(l.expires) {
		l.expires = expires
	}
}

// Expires is when the lease ends.
func (l *Lease) Expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.expires
}

// Duration is the lease's length.
func (l *Lease) Duration() time.Duration { return l.duration }

// Valid reports whether the node may run domains now.
func (l *Lease) Valid() bool { return l.Remaining() > 0 }

// Remaining is how long the lease still runs (0 once expired).
func (l *Lease) Remaining() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(0, l.expires.Sub(l.now()))
}

// Grants is the leader's record of the leases it handed out. A node is
// certainly fenced once the leader has not granted it anything for longer than
// the lease plus a margin for clock-rate drift; a new leader, which knows
// nothing of its predecessor's grants, first waits that long from its own
// start (a grace after a leader change, so an election never looks like mass
// node death).
type Grants struct {
	mu       sync.Mutex
	lease    time.Duration
	margin   time.Duration
	since    time.Time // this leader's term began
	lastSent map[string]time.Time
	// condemned nodes are being marked down: no grant until the verdict is
	// committed, so a node can never re-read the FSM just before it.
	condemned map[string]bool
	now       func() time.Time
}

// NewGrants starts the record of a leader that took over now.
func NewGrants(lease, margin time.Duration, now func() time.Time) *Grants {
	if now == nil {
		now = time.Now
	}
	return &Grants{lease: lease, margin: margin, since: now(), lastSent: map[string]time.Time{},
		condemned: map[string]bool{}, now: now}
}

// Grant records that node is granted a lease at the leader's time now. It
// refuses (false) while node is condemned.
func (g *Grants) Grant(node string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.condemned[node] {
		return false
	}
	g.lastSent[node] = g.now()
	return true
}

// Condemn reports whether node is certainly fenced and, if so, refuses it
// any grant until Pardon: the leader commits the down verdict meanwhile.
func (g *Grants) Condemn(node string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.fencedLocked(node) {
		return false
	}
	g.condemned[node] = true
	return true
}

// Pardon lets node be granted leases again (its verdict is committed, or
// failed and will be retried).
func (g *Grants) Pardon(node string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.condemned, node)
}

// LastSeen is when node was last granted a lease by this leader, or when
// this leader's term began if it never was.
func (g *Grants) LastSeen(node string) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.lastSent[node]; ok && t.After(g.since) {
		return t
	}
	return g.since
}

// Holds reports whether node was granted a lease that still runs.
func (g *Grants) Holds(node string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.lastSent[node]
	return ok && g.now().Sub(t) < g.lease
}

// Fenced reports whether node has certainly stopped its domains: no grant
// (from this leader, and none possible from an earlier one) for longer than
// lease + margin.
func (g *Grants) Fenced(node string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fencedLocked(node)
}

func (g *Grants) fencedLocked(node string) bool {
	last := g.since
	if t, ok := g.lastSent[node]; ok && t.After(last) {
		last = t
	}
	return g.now().Sub(last) > g.lease+g.margin
}
