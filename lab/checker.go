package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Host states in a sample.
const (
	HostOn      = "on"      // libvirtd answered: Domains is what runs
	HostOff     = "off"     // powered off: nothing runs
	HostUnknown = "unknown" // libvirtd did not answer: anything may run
)

// HostSample is what one host ran in one listing: the listing was asked at
// At and answered at Done, so what it shows held at some instant between
// the two. Boot names the host's power-on (its init pid): a domain's Run
// counts up within one boot only.
type HostSample struct {
	State    string
	Err      string
	Domains  map[string]Domain // by instance ID
	At, Done time.Time
	Boot     string
}

// running reports whether the sample shows instance id running (any active
// state but paused), and the domain.
func (s HostSample) running(id string) (Domain, bool) {
	d, ok := s.Domains[id]
	return d, ok && s.State == HostOn && d.State != "paused"
}

// Round is one sample of every host, all asked at once. Rounds do not
// overlap: whatever round i saw happened before whatever round i+1 saw.
type Round struct {
	N          int
	Start, End time.Time
	Hosts      map[string]HostSample
}

// HostsOf lists the hosts that ran instance id in this round.
func (r Round) HostsOf(id string) []string {
	var out []string
	for name, s := range r.Hosts {
		if _, ok := s.Domains[id]; ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// RunningOn lists the hosts whose sample in this round shows instance id
// running, not paused.
func (r Round) RunningOn(id string) []string {
	var out []string
	for name, s := range r.Hosts {
		if _, ok := s.running(id); ok {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Violation is a safety breach the checker saw, from First to Last (Count
// rounds or listings). A double run or a duplicate IP is confirmed by a
// sandwich (see Checker): First and Last are instants at which both
// domains ran, give or take the listing that saw the second one (at most a
// few ms, more when libvirtd is busy), and Span is the shortest sandwich:
// how long the first domain was taken to run on without a break, between
// the two listings that showed it running (for a MAC mismatch, the
// round's length; 0 for the API's duplicate IPs).
type Violation struct {
	Kind        string // double-run, duplicate-ip, api-duplicate-ip, mac-mismatch
	Detail      string
	First, Last time.Time
	Count       int
	Span        time.Duration
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s (%d× from %s to %s, span %v)", v.Kind, v.Detail, v.Count,
		v.First.Format("15:04:05.000"), v.Last.Format("15:04:05.000"), v.Span.Round(time.Millisecond))
}

// Checker samples every host's libvirtd about every 200 ms, and the API's
// server list every second, from Start until Stop.
//
// The rule it checks is that no instance RUNS on two hosts at one instant,
// and no fixed IP is held by two running domains at one instant. A paused
// domain does not count: during a live migration the destination holds the
// incoming domain paused while the source runs, and at switch-over the
// source pauses before the destination resumes; a correct migration never
// has the guest running on both ends. Neither does a shut off one (a
// resize's source keeps its old domain defined).
//
// A round asks every host at once, but each libvirtd answers when it can,
// so one round showing an instance running on A and on B does not prove
// that they ran at the same instant: at a switch-over the round may list A
// just before A paused and B just after B resumed. Such a round is only a
// suspicion, which the checker confirms at once with a sandwich: it lists B
// again (answered at tB, after the round ended), then A again (asked after
// tB). If both still show the instance running, and A's is the same run of
// the same domain as in the round (same libvirt domain ID in the same
// power-on of the host), then A ran it before tB and after tB without a
// restart, hence at tB too, when B ran it: a double run. The same goes for a
// fixed IP held by two running domains (two holders, by instance and host).
// What the rule cannot see is a double run shorter than the sandwich, or a
// domain paused and resumed on A in between (taken as running throughout:
// that errs on the side of a report); unknown hosts (libvirtd silent) and
// powered-off hosts run nothing for this rule.
type Checker struct {
	lab      *Lab
	interval time.Duration

	mu         sync.Mutex
	rounds     []Round
	violations map[string]*Violation
	order      []string                // violation keys, first seen first
	ips        map[string]string       // instance ID → fixed IP, fixed for life
	macs       map[string]string       // instance ID → MAC
	byMAC      map[string]string       // MAC → fixed IP, for every MAC ever listed
	conns      map[string]*libvirtConn // only the sampler goroutine touches these
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	maxGap     time.Duration // longest pause between two rounds
	maxRound   time.Duration // longest round
	stopped    bool
	// probe lists one host afresh, for a sandwich; sampleOne but in tests.
	probe func(host string) HostSample
}

// StartChecker starts sampling; Stop (also at cleanup) ends it.
func StartChecker(t testing.TB, l *Lab) *Checker {
	ctx, cancel := context.WithCancel(context.Background())
	c := newChecker(l)
	c.cancel = cancel
	c.wg.Add(2)
	go c.sampleLoop(ctx)
	go c.apiLoop(ctx)
	t.Cleanup(c.Stop)
	return c
}

func newChecker(l *Lab) *Checker {
	c := &Checker{lab: l, interval: 200 * time.Millisecond, cancel: func() {},
		violations: map[string]*Violation{}, ips: map[string]string{}, macs: map[string]string{},
		byMAC: map[string]string{}, conns: map[string]*libvirtConn{}}
	c.probe = c.sampleOne
	return c
}

// Stop ends sampling and closes the connections; idempotent.
func (c *Checker) Stop() {
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for name, conn := range c.conns {
		conn.close()
		delete(c.conns, name)
	}
}

func (c *Checker) sampleLoop(ctx context.Context) {
	defer c.wg.Done()
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	for {
		c.sample()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sample takes one round: every host at once, each bounded by 3 s.
func (c *Checker) sample() {
	start := time.Now()
	type result struct {
		name string
		s    HostSample
	}
	results := make(chan result, len(c.lab.Hosts))
	c.mu.Lock()
	conns := maps.Clone(c.conns)
	c.mu.Unlock()
	for _, h := range c.lab.Hosts {
		conn := conns[h.Name]
		go func() {
			s, conn := stamped(h.EnvPath(), conn)
			c.setConn(h.Name, conn) // before the result: a sandwich may reuse it at once
			results <- result{h.Name, s}
		}()
	}
	hosts := map[string]HostSample{}
	timeout := time.After(3 * time.Second)
	for range c.lab.Hosts {
		select {
		case r := <-results:
			hosts[r.name] = r.s
		case <-timeout:
		}
	}
	for _, h := range c.lab.Hosts {
		if _, ok := hosts[h.Name]; !ok {
			hosts[h.Name] = HostSample{State: HostUnknown, Err: "libvirtd did not answer within 3 s"}
		}
	}
	c.record(Round{Start: start, End: time.Now(), Hosts: hosts})
}

// sampleOne lists one host afresh, bounded by 3 s like a round's samples.
func (c *Checker) sampleOne(name string) HostSample {
	h := c.lab.hostNamed(name)
	if h == nil {
		return HostSample{State: HostUnknown, Err: "no such host"}
	}
	c.mu.Lock()
	conn := c.conns[name]
	c.mu.Unlock()
	done := make(chan HostSample, 1)
	go func() {
		s, conn := stamped(h.EnvPath(), conn)
		c.setConn(name, conn)
		done <- s
	}()
	select {
	case s := <-done:
		return s
	case <-time.After(3 * time.Second):
		return HostSample{State: HostUnknown, Err: "libvirtd did not answer within 3 s"}
	}
}

// stamped is sampleHost with the listing's times.
func stamped(envPath string, conn *libvirtConn) (HostSample, *libvirtConn) {
	at := time.Now()
	s, conn := sampleHost(envPath, conn)
	s.At, s.Done = at, time.Now()
	return s, conn
}

// setConn keeps a host's connection for the next round. Sample goroutines
// that time out still deliver here, late; conns is guarded by mu.
func (c *Checker) setConn(name string, conn *libvirtConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.conns[name]; old != nil && old != conn {
		old.close()
	}
	switch {
	case conn == nil:
		delete(c.conns, name)
	case c.stopped:
		conn.close()
		delete(c.conns, name)
	default:
		c.conns[name] = conn
	}
}

// sampleHost lists the active shoal domains of one host, reconnecting when
// the host was power-cycled; it returns the connection to keep (nil: none).
func sampleHost(envPath string, conn *libvirtConn) (HostSample, *libvirtConn) {
	env, err := hostEnv(envPath)
	if errors.Is(err, errPoweredOff) {
		return HostSample{State: HostOff}, nil
	}
	if err != nil {
		return HostSample{State: HostUnknown, Err: err.Error()}, conn
	}
	if conn != nil && conn.boot != env["SHLAB_INIT_PID"] {
		conn = nil // the old boot's daemon is gone; setConn closes it
	}
	if conn == nil {
		if conn, err = dialHost(env); err != nil {
			return HostSample{State: HostUnknown, Err: err.Error()}, nil
		}
	}
	doms, err := conn.active()
	if err != nil {
		return HostSample{State: HostUnknown, Err: err.Error()}, nil
	}
	return HostSample{State: HostOn, Domains: doms, Boot: conn.boot}, conn
}

// suspect is a pair of holders that one round saw running at once: the
// same instance on two hosts (double-run), or two instances holding one
// fixed IP (duplicate-ip). A's listing in the round answered no later than
// B's.
type suspect struct {
	kind   string
	ip     string // duplicate-ip: the IP both hold
	a, b   holder
	detail string
}

// holder is a running domain in one host's listing.
type holder struct {
	host, id string
	sample   HostSample // the round's listing of host
}

// record stores a round and checks it: no instance running on two hosts,
// no fixed IP on two running domains (each suspicion confirmed by a
// sandwich, see Checker), each domain's MAC the one the API lists.
func (c *Checker) record(r Round) {
	for _, s := range c.store(r) {
		if at, span, ok := c.confirm(s); ok {
			c.mu.Lock()
			c.violate(s.kind, s.detail, at, span)
			c.mu.Unlock()
		}
	}
}

// store keeps the round, checks MACs, and returns the round's suspects.
func (c *Checker) store(r Round) []suspect {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.N = len(c.rounds)
	if n := len(c.rounds); n > 0 {
		c.maxGap = max(c.maxGap, r.Start.Sub(c.rounds[n-1].End))
	}
	c.maxRound = max(c.maxRound, r.End.Sub(r.Start))
	c.rounds = append(c.rounds, r)
	var out []suspect
	pair := func(kind, ip string, x, y holder, detail string) {
		if y.sample.Done.Before(x.sample.Done) {
			x, y = y, x
		}
		out = append(out, suspect{kind: kind, ip: ip, a: x, b: y, detail: detail})
	}
	for _, id := range slices.Sorted(maps.Keys(idsOf(r))) {
		hosts := r.RunningOn(id)
		for i := range hosts {
			for _, other := range hosts[i+1:] {
				pair("double-run", "", holder{hosts[i], id, r.Hosts[hosts[i]]}, holder{other, id, r.Hosts[other]},
					fmt.Sprintf("instance %s running on %s and %s", id, hosts[i], other))
			}
		}
	}
	holders := map[string][]holder{} // IP → running domains, one per instance
	for _, name := range slices.Sorted(maps.Keys(r.Hosts)) {
		s := r.Hosts[name]
		for _, id := range slices.Sorted(maps.Keys(s.Domains)) {
			d := s.Domains[id]
			if want := c.macs[id]; want != "" && d.MAC != "" && d.MAC != want {
				c.violate("mac-mismatch", fmt.Sprintf("instance %s on %s has MAC %s, the API says %s", id, name, d.MAC, want), r.End, r.End.Sub(r.Start))
			}
			if _, ok := s.running(id); !ok {
				continue
			}
			ip := c.ipOf(id, d)
			if ip != "" && !slices.ContainsFunc(holders[ip], func(h holder) bool { return h.id == id }) {
				holders[ip] = append(holders[ip], holder{name, id, s})
			}
		}
	}
	for _, ip := range slices.Sorted(maps.Keys(holders)) {
		hs := holders[ip]
		for i := range hs {
			for _, other := range hs[i+1:] {
				pair("duplicate-ip", ip, hs[i], other, fmt.Sprintf("fixed IP %s held by running domains %s@%s, %s@%s",
					ip, hs[i].id, hs[i].host, other.id, other.host))
			}
		}
	}
	return out
}

// ipOf is the fixed IP a domain holds: its MAC's, else its instance's.
// c.mu is held.
func (c *Checker) ipOf(id string, d Domain) string {
	if ip := c.byMAC[d.MAC]; ip != "" {
		return ip
	}
	return c.ips[id]
}

// confirm runs the sandwich on a suspect: B listed again, then A. It
// returns when B's listing answered (an instant at which both ran, up to
// that listing's length) and how long A was taken to run on between the
// two listings of A that frame it.
func (c *Checker) confirm(s suspect) (time.Time, time.Duration, bool) {
	holds := func(h holder, got HostSample) bool {
		d, ok := got.running(h.id)
		if !ok {
			return false
		}
		if s.kind == "duplicate-ip" {
			c.mu.Lock()
			ip := c.ipOf(h.id, d)
			c.mu.Unlock()
			return ip == s.ip
		}
		return true
	}
	b := c.probe(s.b.host)
	if !holds(s.b, b) {
		return time.Time{}, 0, false
	}
	a := c.probe(s.a.host)
	if !holds(s.a, a) || a.At.Before(b.Done) || b.At.Before(s.a.sample.Done) {
		return time.Time{}, 0, false
	}
	// The same run of A's domain: a restart in between proves nothing.
	if before := s.a.sample; a.Boot != before.Boot || a.Domains[s.a.id].Run != before.Domains[s.a.id].Run {
		return time.Time{}, 0, false
	}
	return b.Done, a.At.Sub(s.a.sample.Done), true
}

func idsOf(r Round) map[string]bool {
	ids := map[string]bool{}
	for _, s := range r.Hosts {
		for id := range s.Domains {
			ids[id] = true
		}
	}
	return ids
}

// violate records a breach seen at at; c.mu is held.
func (c *Checker) violate(kind, detail string, at time.Time, span time.Duration) {
	key := kind + "\x00" + detail
	v := c.violations[key]
	if v == nil {
		v = &Violation{Kind: kind, Detail: detail, First: at, Span: span}
		c.violations[key] = v
		c.order = append(c.order, key)
	}
	v.Last = at
	v.Span = min(v.Span, span)
	v.Count++
}

// apiLoop learns every server's fixed IP and MAC from the API each second
// and checks that no two listed servers share an IP.
func (c *Checker) apiLoop(ctx context.Context) {
	defer c.wg.Done()
	for {
		list, err := c.lab.Servers(ctx)
		if err == nil {
			c.learn(list)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// Learn records the addresses of listed servers (the scenarios call it
// with the lists they fetch, so the checker knows new servers at once).
func (c *Checker) Learn(list []Server) { c.learn(list) }

func (c *Checker) learn(list []Server) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	byIP := map[string][]string{}
	for _, s := range list {
		for _, a := range s.Addresses {
			mac := strings.ToLower(a.MAC)
			if a.IP == "" || a.Type == "floating" { // a floating IP shares its fixed IP's MAC
				continue
			}
			byIP[a.IP] = append(byIP[a.IP], s.ID)
			c.ips[s.ID] = a.IP
			if mac != "" {
				c.macs[s.ID] = mac
				c.byMAC[mac] = a.IP
			}
		}
	}
	for ip, ids := range byIP {
		if len(ids) > 1 {
			sort.Strings(ids)
			c.violate("api-duplicate-ip", fmt.Sprintf("the API lists fixed IP %s for servers %s", ip, strings.Join(ids, ", ")), now, 0)
		}
	}
}
