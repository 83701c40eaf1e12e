package lab

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// Mark is a round of the checker: its number (rounds are ordered) and when
// it was taken.
type Mark struct {
	Round int
	At    time.Time
}

// HostLastActive is the last round within [from, to] in which host ran a
// shoal domain, or may have (its libvirtd did not answer). ok is false when
// no round in the window saw one.
func (c *Checker) HostLastActive(host string, from, to time.Time) (m Mark, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rounds {
		if r.Start.Before(from) || r.End.After(to) {
			continue
		}
		s := r.Hosts[host]
		if len(s.Domains) > 0 || s.State == HostUnknown {
			m, ok = Mark{r.N, r.End}, true
		}
	}
	return m, ok
}

// FirstActiveElsewhere is the first round from from on in which instance id
// ran on a host other than host.
func (c *Checker) FirstActiveElsewhere(id, host string, from time.Time) (Mark, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.rounds {
		if r.Start.Before(from) {
			continue
		}
		for _, h := range r.HostsOf(id) {
			if h != host {
				return Mark{r.N, r.Start}, true
			}
		}
	}
	return Mark{}, false
}

// Fresh waits for a round that started after the call and returns it, so
// what it shows is no older than the caller's last action.
func (c *Checker) Fresh(ctx context.Context) (Round, error) {
	since := time.Now()
	for {
		c.mu.Lock()
		var r *Round
		if n := len(c.rounds); n > 0 && c.rounds[n-1].Start.After(since) {
			r = &c.rounds[n-1]
		}
		var out Round
		if r != nil {
			out = *r
			out.Hosts = maps.Clone(r.Hosts)
		}
		c.mu.Unlock()
		if r != nil {
			return out, nil
		}
		select {
		case <-ctx.Done():
			return Round{}, fmt.Errorf("no fresh checker round: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Defined lists the IDs of every shoal domain host's libvirtd has, running
// or not, over a connection of its own.
func (c *Checker) Defined(host *Host) ([]string, error) {
	env, err := hostEnv(host.EnvPath())
	if err != nil {
		return nil, err
	}
	conn, err := dialHost(env)
	if err != nil {
		return nil, err
	}
	defer conn.close()
	return conn.defined()
}

// Violations returns every breach seen so far, first seen first.
func (c *Checker) Violations() []Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.violationsLocked()
}

func (c *Checker) violationsLocked() []Violation {
	out := make([]Violation, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, *c.violations[k])
	}
	return out
}

// TakeViolations returns the violations seen so far and forgets them: for
// tests that cause some on purpose.
func (c *Checker) TakeViolations() []Violation {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.violationsLocked()
	c.violations, c.order = map[string]*Violation{}, nil
	return vs
}

// Summary is one line: rounds taken, the longest round and pause between
// two (how blind the checker may have been), and the violations. libvirtd
// answers a domain list only once a domain being started or stopped lets
// go of its lock, so a round can take a second or two while domains move.
func (c *Checker) Summary() string {
	c.mu.Lock()
	rounds, long, gap := len(c.rounds), c.maxRound, c.maxGap
	c.mu.Unlock()
	vs := c.Violations()
	return fmt.Sprintf("checker: %d rounds, longest round %v, longest gap %v, %d violations",
		rounds, long.Round(time.Millisecond), gap.Round(time.Millisecond), len(vs))
}

// Check fails the test for every violation seen so far.
func (c *Checker) Check(t testing.TB) {
	t.Helper()
	vs := c.Violations()
	t.Log(c.Summary())
	if len(vs) == 0 {
		return
	}
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	t.Errorf("checker saw %d violations:\n%s", len(vs), strings.Join(lines, "\n"))
}
