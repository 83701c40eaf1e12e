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

// HostSample is what one host ran in one round.
type HostSample struct {
	State   string
	Err     string
	Domains map[string]Domain // by instance ID
}

// Round is one sample of every host. Rounds do not overlap: whatever round
// i saw happened before whatever round i+1 saw.
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

// Violation is a safety breach the checker saw, from First to Last (Count
// rounds or listings). Within a round the hosts are sampled at once, but a
// host's libvirtd answers when it can: two domains seen in one round were
// both active at some instants at most Span apart (the shortest round that
// saw the breach), not necessarily at the same instant.
type Violation struct {
	Kind        string // double-run, duplicate-ip, api-duplicate-ip, mac-mismatch
	Detail      string
	First, Last time.Time
	Count       int
	Span        time.Duration
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s (%d× from %s to %s, rounds of %v)", v.Kind, v.Detail, v.Count,
		v.First.Format("15:04:05.000"), v.Last.Format("15:04:05.000"), v.Span.Round(time.Millisecond))
}

// Checker samples every host's libvirtd about every 200 ms, and the API's
// server list every second, from Start until Stop.
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
	return &Checker{lab: l, interval: 200 * time.Millisecond, cancel: func() {},
		violations: map[string]*Violation{}, ips: map[string]string{}, macs: map[string]string{},
		byMAC: map[string]string{}, conns: map[string]*libvirtConn{}}
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
			s, conn := sampleHost(h.EnvPath(), conn)
			results <- result{h.Name, s}
			c.setConn(h.Name, conn)
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
	return HostSample{State: HostOn, Domains: doms}, conn
}

// record stores a round and checks it: no instance on two hosts, no fixed
// IP on two running domains, each domain's MAC the one the API lists.
func (c *Checker) record(r Round) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.N = len(c.rounds)
	if n := len(c.rounds); n > 0 {
		c.maxGap = max(c.maxGap, r.Start.Sub(c.rounds[n-1].End))
	}
	c.maxRound = max(c.maxRound, r.End.Sub(r.Start))
	c.rounds = append(c.rounds, r)
	for id := range idsOf(r) {
		if hosts := r.HostsOf(id); len(hosts) > 1 {
			for i, h := range hosts {
				hosts[i] = fmt.Sprintf("%s (%s)", h, r.Hosts[h].Domains[id].State)
			}
			c.violate(r, "double-run", fmt.Sprintf("instance %s active on %s", id, strings.Join(hosts, " and ")))
		}
	}
	holders := map[string][]string{} // IP → "id@host"
	for name, s := range r.Hosts {
		for id, d := range s.Domains {
			if want := c.macs[id]; want != "" && d.MAC != "" && d.MAC != want {
				c.violate(r, "mac-mismatch", fmt.Sprintf("instance %s on %s has MAC %s, the API says %s", id, name, d.MAC, want))
			}
			ip := c.byMAC[d.MAC]
			if ip == "" {
				ip = c.ips[id]
			}
			if ip != "" && !slices.ContainsFunc(holders[ip], func(s string) bool { return strings.HasPrefix(s, id+"@") }) {
				holders[ip] = append(holders[ip], id+"@"+name)
			}
		}
	}
	for ip, hs := range holders {
		if len(hs) > 1 {
			sort.Strings(hs)
			c.violate(r, "duplicate-ip", fmt.Sprintf("fixed IP %s held by running domains %s", ip, strings.Join(hs, ", ")))
		}
	}
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

// violate records a breach; c.mu is held.
func (c *Checker) violate(r Round, kind, detail string) {
	key := kind + "\x00" + detail
	v := c.violations[key]
	if v == nil {
		v = &Violation{Kind: kind, Detail: detail, First: r.End, Span: r.End.Sub(r.Start)}
		c.violations[key] = v
		c.order = append(c.order, key)
	}
	v.Last = r.End
	v.Span = min(v.Span, r.End.Sub(r.Start))
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
			c.violate(Round{Start: now, End: now}, "api-duplicate-ip", fmt.Sprintf("the API lists fixed IP %s for servers %s", ip, strings.Join(ids, ", ")))
		}
	}
}
