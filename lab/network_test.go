//go:build lab

package lab_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

const (
	// tenantCIDR is the lab's tenant network (lab.DefaultAgentFlags).
	tenantCIDR = "10.78.0.0/24"
	// spoofedIP is in the tenant network and no server's: the address a
	// guest pretends to send from.
	spoofedIP = "10.78.0.250"
	// outsideIP is the outside namespace's address on the hosts' link.
	outsideIP = "10.99.0.2"
	// outsidePort is where the outside listens for guests' connections.
	outsidePort = 9090

	// netTimeout bounds a wait for the data plane to reach a state that
	// the API has already committed (a reconciler pass, an ARP answer).
	netTimeout = 30 * time.Second
	// guestTimeout bounds one command on a guest's console under TCG.
	guestTimeout = 20 * time.Second
)

// TestLabNetwork runs issue 12's data plane on real guests (the tiny image)
// in one three-host lab, scenario after scenario, each building on the last:
// guests on two hosts reach each other by fixed IP; a guest reaches the
// outside, which sees its host's address; a floating IP from an external
// network answers from the outside on a port its security group opens and
// not on one it does not; rules added and removed change what reaches the
// running guest (timed: FigureRuleApplied); a guest cannot send from an IP
// or MAC not its own; and after its host loses power the floating IP
// answers from the server's new host (timed: FigureFloatingIPFailover),
// while the old host, back on, holds none.
func TestLabNetwork(t *testing.T) {
	n := setupNetwork(t)
	for _, s := range []struct {
		name string
		run  func(*testing.T, *netEnv)
	}{
		{"east-west", eastWest},
		{"egress", egress},
		{"floating IP", floatingIP},
		{"security group change", ruleChange},
		{"anti-spoof", antiSpoof},
		{"floating IP failover", floatingIPFailover},
	} {
		if !t.Run(s.name, func(t *testing.T) { s.run(t, n.with(t)) }) {
			t.FailNow() // each scenario starts where the last one left off
		}
	}
}

// netEnv is the lab with two tiny guests, A and B, each on a host of its
// own, neither of them the leader's at the start. Every scenario's netEnv
// shares one netState.
type netEnv struct {
	env
	*netState
}

type netState struct {
	a, b     *lab.Guest
	aIP, bIP string // fixed IPs: they stay with the server wherever it runs
	// set by the floating IP scenario
	fip lab.FloatingIP
	web lab.SecurityGroup // A's second group (tcp 80 from anywhere)

	ruleApplied, failover *lab.Figures
}

// with is n for a subtest: the env's waits fail t.
func (n *netEnv) with(t *testing.T) *netEnv {
	c := *n
	c.env.t = t
	return &c
}

func setupNetwork(t *testing.T) *netEnv {
	l := lab.Start(t, lab.Config{})
	chk := lab.StartChecker(t, l)
	t.Cleanup(func() { chk.Check(t) })
	n := &netEnv{env: env{t: t, lab: l, chk: chk}, netState: &netState{}}
	figures := reported(t, lab.FigureRuleApplied, lab.FigureFloatingIPFailover)
	n.ruleApplied, n.failover = figures[0], figures[1]

	// The uploading host keeps the image for the others to fetch: make it
	// the leader, which no scenario powers off first.
	leader := n.leader()
	l.UploadTinyImage(leader)
	others := l.Others(leader)
	n.a = l.CreateGuest(leader, "net-a", others[0])
	n.b = l.CreateGuest(leader, "net-b", others[1])
	start := time.Now()
	sa, sb := n.a.WaitBooted(lab.BootTimeout), n.b.WaitBooted(lab.BootTimeout)
	n.aIP, n.bIP = sa.FixedIP(), sb.FixedIP()
	t.Logf("guests booted within %v: %s %s on %s, %s %s on %s; leader %s", time.Since(start).Round(time.Second),
		n.a.Name, n.aIP, sa.Host, n.b.Name, n.bIP, sb.Host, leader.Name)
	return n
}

// eastWest: A on one host pings B on another by its fixed IP, and back.
func eastWest(t *testing.T, n *netEnv) {
	n.waitGuest(n.a, "ping "+n.bIP, func(ctx context.Context) error { return n.a.Ping(ctx, n.bIP) })
	n.waitGuest(n.b, "ping "+n.aIP, func(ctx context.Context) error { return n.b.Ping(ctx, n.aIP) })
}

// egress: A reaches the outside, which sees A's host's address (SNAT).
func egress(t *testing.T, n *netEnv) {
	ln, err := n.lab.OutsideListen(outsidePort)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n.waitGuest(n.a, "ping "+outsideIP, func(ctx context.Context) error { return n.a.Ping(ctx, outsideIP) })
	host := n.hostOf(n.a)
	n.waitSource(n.a, host.Addr)
}

// floatingIP: an admin makes the external network, A gets a floating IP
// and a second group opening tcp 80; from the outside the floating IP
// answers on 80 with A's name, and on 8080 (listening in the guest, closed
// by the groups) the SYN is dropped, not refused. A's egress now leaves
// with its floating IP as source.
func floatingIP(t *testing.T, n *netEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := n.api()
	public, err := c.CreateNetwork(ctx, lab.NetworkCreate{Name: "public", External: true, CIDR: "10.66.0.0/24",
		Gateway: "10.66.0.1", AllocationPools: []lab.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}})
	if err != nil {
		t.Fatalf("creating the external network: %v", err)
	}
	if n.fip, err = c.CreateFloatingIP(ctx, public.Name); err != nil {
		t.Fatalf("allocating a floating IP: %v", err)
	}
	if n.fip.IP != "10.66.0.200" {
		t.Errorf("first floating IP of pool .200–.240 is %s, want the lowest, 10.66.0.200", n.fip.IP)
	}
	if err := c.ServerAction(ctx, n.a.ID, "add-floating-ip", "address", n.fip.IP); err != nil {
		t.Fatalf("attaching %s to %s: %v", n.fip.IP, n.a.Name, err)
	}
	if n.web, err = c.CreateSecurityGroup(ctx, "lab-web"); err != nil {
		t.Fatalf("creating group lab-web: %v", err)
	}
	if _, err := c.CreateSecurityGroupRule(ctx, lab.IngressRule(n.web.ID, "tcp", &[2]int{80, 80}, "")); err != nil {
		t.Fatalf("opening tcp 80 in lab-web: %v", err)
	}
	if err := c.ServerAction(ctx, n.a.ID, "add-security-group", "name", n.web.Name); err != nil {
		t.Fatalf("adding %s to lab-web: %v", n.a.Name, err)
	}
	s, err := n.a.Server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !hasFloating(s, n.fip.IP) {
		t.Errorf("%s's addresses %+v show no floating %s", n.a.Name, s.Addresses, n.fip.IP)
	}
	t.Logf("floating IP %s → %s (%s) on %s", n.fip.IP, n.aIP, n.a.Name, s.Host)

	n.waitHTTP(n.fip.IP, netTimeout)
	n.holders(n.fip.IP, s.Host)
	_, err = n.lab.OutsideConnect(ctx, n.fip.IP, 8080, 2*time.Second, "")
	var ne net.Error
	switch {
	case err == nil:
		t.Fatalf("from the outside, %s:8080 connects; lab-web and default open only tcp 80 to the outside", n.fip.IP)
	case !errors.As(err, &ne) || !ne.Timeout():
		t.Errorf("from the outside, %s:8080: %v; want a timeout (dropped, not rejected)", n.fip.IP, err)
	}

	ln, err := n.lab.OutsideListen(outsidePort)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	n.waitSource(n.a, n.fip.IP)
}

// ruleChange: tcp 8080 opened in A's group reaches the running guest
// through its floating IP, and closed stops reaching it, trial after trial;
// each change is timed from the API's answer to the first probe from the
// outside that sees it.
func ruleChange(t *testing.T, n *netEnv) {
	for trial := range trials(t) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rule, err := n.api().CreateSecurityGroupRule(ctx, lab.IngressRule(n.web.ID, "tcp", &[2]int{8080, 8080}, ""))
		cancel()
		if err != nil {
			t.Fatalf("trial %d: opening tcp 8080: %v", trial, err)
		}
		opened := n.flip(n.fip.IP, 8080, true, time.Now())
		n.ruleApplied.Add(opened)

		ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
		err = n.api().DeleteSecurityGroupRule(ctx, rule.ID)
		cancel()
		if err != nil {
			t.Fatalf("trial %d: closing tcp 8080: %v", trial, err)
		}
		closed := n.flip(n.fip.IP, 8080, false, time.Now())
		n.ruleApplied.Add(closed)
		t.Logf("trial %d: tcp 8080 open %v, closed %v after the API's answer", trial,
			opened.Round(time.Millisecond), closed.Round(time.Millisecond))
	}
}

// antiSpoof: B's group lets ICMP in from the whole tenant network and A
// leaves B's group, so that A reaches B only through that rule (which the
// pings prove live on B's host); then A sending from an address not its
// own, or from a MAC not its own, reaches B not at all: B's kernel counts
// no echo request. The drop is A's host's, not B's filter's.
func antiSpoof(t *testing.T, n *netEnv) {
	c := n.api()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	def := n.group("default")
	if err := c.ServerAction(ctx, n.a.ID, "remove-security-group", "name", def.Name); err != nil {
		t.Fatalf("removing %s from default: %v", n.a.Name, err)
	}
	n.waitGuest(n.a, "no ping to "+n.bIP+" once out of B's group", func(ctx context.Context) error {
		if err := n.a.Ping(ctx, n.bIP); err == nil {
			return errors.New("still answered")
		}
		return nil
	})
	rule, err := c.CreateSecurityGroupRule(ctx, lab.IngressRule(def.ID, "icmp", nil, tenantCIDR))
	if err != nil {
		t.Fatalf("opening icmp from %s in default: %v", tenantCIDR, err)
	}
	control := func(what string) {
		n.waitGuest(n.a, "ping "+n.bIP+" "+what, func(ctx context.Context) error { return n.a.Ping(ctx, n.bIP) })
	}
	control("through the icmp rule")

	before := n.echoes(n.b)
	out, rc, err := n.a.Run(ctx, fmt.Sprintf("ip addr add %s/32 dev eth0 && ping -c 3 -W 1 -I %s %s; r=$?; ip addr del %s/32 dev eth0; [ $r = 0 ]",
		spoofedIP, spoofedIP, n.bIP, spoofedIP))
	if err != nil || rc == 0 {
		t.Errorf("A pinging B from %s: rc %d, %v; want no reply\n%s", spoofedIP, rc, err, out)
	}
	if after := n.echoes(n.b); after != before {
		t.Errorf("B received %d echo requests while A sent from %s", after-before, spoofedIP)
	}
	control("again from A's own address")

	sa, err := n.a.Server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	own, fake := strings.ToLower(sa.Addresses[0].MAC), "02:00:00:00:be:ef"
	before = n.echoes(n.b)
	out, rc, err = n.a.Run(ctx, fmt.Sprintf("ip link set eth0 address %s && cat /sys/class/net/eth0/address && ping -c 3 -W 1 %s; r=$?; ip link set eth0 address %s; [ $r = 0 ]",
		fake, n.bIP, own))
	if err != nil || rc == 0 || !strings.Contains(out, fake) {
		t.Errorf("A pinging B from MAC %s: rc %d, %v; want the MAC changed and no reply\n%s", fake, rc, err, out)
	}
	if after := n.echoes(n.b); after != before {
		t.Errorf("B received %d echo requests while A sent from MAC %s", after-before, fake)
	}
	control("with A's own MAC back")

	if err := c.DeleteSecurityGroupRule(ctx, rule.ID); err != nil {
		t.Fatalf("deleting the icmp rule: %v", err)
	}
	if err := c.ServerAction(ctx, n.a.ID, "add-security-group", "name", def.Name); err != nil {
		t.Fatalf("putting %s back in default: %v", n.a.Name, err)
	}
}

// floatingIPFailover: power off the host of A; the floating IP answers
// again, with A's name, from A's new host, which holds it on its uplink.
// Powered on again, the old host learns where A went (its route to A's
// fixed IP points at the new host) and holds no floating IP.
func floatingIPFailover(t *testing.T, n *netEnv) {
	for trial := range min(trials(t), 3) { // each trial boots A again under TCG
		from := n.hostOf(n.a)
		n.holders(n.fip.IP, from.Name)
		peer := n.lab.Others(from)[0]
		t.Logf("trial %d: powering off %s, running %s with %s", trial, from.Name, n.a.Name, n.fip.IP)
		start := time.Now()
		from.PowerOff()
		n.waitHTTP(n.fip.IP, failoverTimeout+lab.BootTimeout)
		took := time.Since(start)
		n.failover.Add(took)
		to := n.hostOf(n.a)
		if to == from {
			t.Fatalf("trial %d: %s answers through %s, and the API places it on powered-off %s", trial, n.a.Name, n.fip.IP, from.Name)
		}
		n.holders(n.fip.IP, to.Name)
		t.Logf("trial %d: %s answers from %s after %v", trial, n.fip.IP, to.Name, took.Round(10*time.Millisecond))

		from.PowerOn()
		testkit.WaitEvery(t, lab.Poll, failoverTimeout, from.Name+" a member again, not fenced", func() (bool, string) {
			return from.MemberOK(peer)
		})
		n.waitUndefined(from, []string{n.a.ID})
		route := n.aIP + " via " + to.Addr + " "
		testkit.WaitEvery(t, lab.Poll, netTimeout, from.Name+"'s route to "+n.aIP+" via "+to.Name, func() (bool, string) {
			out, err := n.exec(from, "ip", "-4", "route", "show", "proto", "250")
			return err == nil && strings.Contains(out, route), fmt.Sprintf("%v: %s", err, out)
		})
		n.holders(n.fip.IP, to.Name)
		n.noViolations(trial)
	}
}
