//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// Probing a port from the outside for a filter's change: a new connection
// every probeEvery, each giving up after probeConnect without a SYN-ACK
// (under the kernel's first SYN retransmission, 1 s, so a probe sees the
// filter as it was when the probe began); confirmProbes in a row, in the
// order they began, settle the outcome.
const (
	probeEvery    = 50 * time.Millisecond
	probeConnect  = 900 * time.Millisecond
	confirmProbes = 3
)

// api is the leader's client, for the scenarios' writes.
func (n *netEnv) api() *lab.Client { return n.leader().API.WithTimeout(10 * time.Second) }

// hostOf is the lab host the API places g on.
func (n *env) hostOf(g *lab.Guest) *lab.Host {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := g.Server(ctx)
	if err != nil {
		n.t.Fatal(err)
	}
	return n.lab.Host(s.Host)
}

// waitGuest retries probe, a command on g, until it returns nil.
func (n *netEnv) waitGuest(g *lab.Guest, what string, probe func(context.Context) error) {
	n.t.Helper()
	testkit.WaitEvery(n.t, lab.Poll, netTimeout, g.Name+": "+what, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), guestTimeout)
		defer cancel()
		err := probe(ctx)
		return err == nil, fmt.Sprint(err)
	})
}

// waitSource waits until g's connection to the outside's listener (which
// must run) is seen coming from source.
func (n *netEnv) waitSource(g *lab.Guest, source string) {
	n.t.Helper()
	n.waitGuest(g, "the outside sees it as "+source, func(ctx context.Context) error {
		out, err := g.Dial(ctx, outsideIP, outsidePort)
		if err == nil && out != source+"\n" {
			err = fmt.Errorf("the outside saw %q", out)
		}
		return err
	})
}

// waitHTTP waits until ip:80 answers A's name over HTTP from the outside.
func (n *netEnv) waitHTTP(ip string, timeout time.Duration) {
	n.t.Helper()
	testkit.WaitEvery(n.t, 100*time.Millisecond, timeout, "http://"+ip+"/ from the outside to answer "+n.a.Name, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		body, err := n.lab.OutsideHTTP(ctx, ip, 80, probeConnect)
		return err == nil && body == n.a.Name+"\n", fmt.Sprintf("%q, %v", body, err)
	})
}

// holders checks that host, and no other host whose agent runs, has ip on
// its uplink (eth0, holding its bind address).
func (n *netEnv) holders(ip, host string) {
	n.t.Helper()
	var have []string
	for _, h := range n.lab.Up() {
		out, err := n.exec(h, "ip", "-4", "-o", "addr", "show", "dev", "eth0")
		if err != nil {
			n.t.Fatalf("%s: %v: %s", h.Name, err, out)
		}
		if strings.Contains(out, " "+ip+"/") {
			have = append(have, h.Name)
		}
	}
	if !slices.Equal(have, []string{host}) {
		n.t.Errorf("floating IP %s on the uplink of %v, want %s alone", ip, have, host)
	}
}

func (n *env) exec(h *lab.Host, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return h.Exec(ctx, args...)
}

// group is the admin project's security group named name.
func (n *netEnv) group(name string) lab.SecurityGroup {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	groups, err := n.api().SecurityGroups(ctx)
	if err != nil {
		n.t.Fatal(err)
	}
	for _, g := range groups {
		if g.Name == name {
			return g
		}
	}
	n.t.Fatalf("no security group %q among %+v", name, groups)
	return lab.SecurityGroup{}
}

// echoes is how many ICMP echo requests g's kernel has received
// (InEchos in /proc/net/snmp).
func (n *netEnv) echoes(g *lab.Guest) int {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guestTimeout)
	defer cancel()
	out, rc, err := g.Run(ctx, "grep ^Icmp: /proc/net/snmp")
	if err != nil || rc != 0 {
		n.t.Fatalf("%s: reading /proc/net/snmp: rc %d, %v\n%s", g.Name, rc, err, out)
	}
	v, err := snmpField(out, "InEchos")
	if err != nil {
		n.t.Fatalf("%s: %v", g.Name, err)
	}
	return v
}

// snmpField reads a counter from a /proc/net/snmp pair of lines (names,
// then values).
func snmpField(lines, name string) (int, error) {
	rows := strings.Split(strings.TrimSpace(lines), "\n")
	if len(rows) != 2 {
		return 0, fmt.Errorf("want two Icmp: lines, got %q", lines)
	}
	names, values := strings.Fields(rows[0]), strings.Fields(rows[1])
	i := slices.Index(names, name)
	if i < 0 || len(values) != len(names) {
		return 0, fmt.Errorf("no %s in %q", name, lines)
	}
	return strconv.Atoi(values[i])
}

func hasFloating(s lab.Server, ip string) bool {
	return slices.ContainsFunc(s.Addresses, func(a lab.Address) bool { return a.Type == "floating" && a.IP == ip })
}

// probe is one connection from the outside in a flip: when it began, and
// whether A answered with its name.
type probe struct {
	began    time.Time
	answered bool
	note     string
}

// flip probes ip:port from the outside, a new connection every probeEvery,
// until confirmProbes probes in a row (in the order they began) see A's
// port open (answering A's name) or, open false, closed; it returns the
// time from since to when the first of them began.
func (n *netEnv) flip(ip string, port int, open bool, since time.Time) time.Duration {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), netTimeout)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	type result struct {
		i int
		p probe
	}
	results := make(chan result)
	var got []*probe // by launch order; nil while running
	launch := func() {
		i := len(got)
		got = append(got, nil)
		wg.Go(func() {
			p := probe{began: time.Now()}
			out, err := n.lab.OutsideConnect(ctx, ip, port, probeConnect, "")
			p.answered = err == nil && out == n.a.Name+"\n"
			p.note = fmt.Sprintf("%q, %v", out, err)
			select {
			case results <- result{i, p}:
			case <-ctx.Done():
			}
		})
	}
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	launch()
	want := map[bool]string{true: "open", false: "closed"}[open]
	for {
		select {
		case <-ctx.Done():
			last := "none done"
			for _, p := range got {
				if p != nil {
					last = p.note
				}
			}
			n.t.Fatalf("%s:%d from the outside not %s %v after the change; last probe: %s", ip, port, want, netTimeout, last)
		case <-tick.C:
			launch()
		case r := <-results:
			got[r.i] = &r.p
			run, first := 0, 0
			for k := 0; k < len(got) && got[k] != nil; k++ {
				switch {
				case got[k].answered != open:
					run = 0
				case run == 0:
					run, first = 1, k
				default:
					run++
				}
			}
			if run >= confirmProbes {
				return got[first].began.Sub(since)
			}
		}
	}
}
