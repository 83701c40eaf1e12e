//go:build e2e

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/internal/testkit"
)

// A join token admits as many nodes as it says, once each: a second node
// presenting a used token is refused on its own host, by `shoal join` and
// by `shoal agent --join-token`, with the reason, and is never a member.
func TestJoinTokenReuseRefused(t *testing.T) {
	n1, n2, n3, n4 := newAgent(t, "n1"), newAgent(t, "n2"), newAgent(t, "n3"), newAgent(t, "n4")
	n1.start(t, "--bootstrap")
	token := joinToken(t, n1)
	n2.start(t, "--join", n1.gossipAddr(), "--join-token", token)

	n3.start(t)
	out, err := runAs(t, n3, nil, "join", "--token", token, "--data-dir", n3.dir)
	if err == nil || !strings.Contains(out, "join token already used (1 of 1 uses)") {
		t.Fatalf("shoal join with a used token: err=%v, output:\n%s\nwant it refused, saying the token is used", err, out)
	}
	if h, err := localHealth(n3); err != nil || h.Status != "waiting to be joined" {
		t.Fatalf("n3 after the refusal: %+v, %v; want it blank, still waiting", h, err)
	}
	if n3.member() {
		t.Fatal("n3 holds a cluster certificate after a refused join")
	}

	exited := n4.spawn(t, "--join", n1.gossipAddr(), "--join-token", token)
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("n4, started with a used token, still runs after 60 s; its log:\n%s", n4.log)
	}
	if n4.cmd.ProcessState.Success() || !strings.Contains(n4.log.String(), "join token already used") {
		t.Fatalf("agent --join-token with a used token: %v; log:\n%s\nwant it to stop, saying the token is used", n4.cmd.ProcessState, n4.log)
	}
	if strings.Contains(n4.log.String(), token) {
		t.Fatal("the agent logged its join token")
	}

	var names []string
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "n1 and n2 alive, n2 a voter", func() bool {
		names = names[:0]
		ok := true
		for _, m := range members(t, n1) {
			names = append(names, m.Name)
			ok = ok && m.Status == "alive" && m.Role != "none"
		}
		return ok && len(names) == 2
	})
	if slices.Contains(names, "n3") || slices.Contains(names, "n4") {
		t.Fatalf("members: %v; a node refused its token is a member", names)
	}
	if toks := joinTokens(t, n1); len(toks) != 1 || toks[0].Uses != 1 || !slices.Equal(toks[0].UsedBy, []string{"n2"}) {
		t.Fatalf("join tokens: %+v; want the one token used once, by n2", toks)
	}
}

// `shoal cluster gossip-key rotate` with three agents up replaces the key
// with no member lost; a member restarted afterwards comes back with the new
// key, and so does one that was down during a rotation.
func TestGossipKeyRotate(t *testing.T) {
	n1, n2, n3 := newAgent(t, "n1"), newAgent(t, "n2"), newAgent(t, "n3")
	all := []*agent{n1, n2, n3}
	n1.start(t, "--bootstrap")
	n2.start(t, "--join", n1.gossipAddr())
	n3.start(t, "--join", n1.gossipAddr())
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name, func() bool { return healthy(members(t, a)) })
	}
	out, err := run(t, n2, "cluster", "gossip-key", "rotate")
	if err != nil || !strings.Contains(out, "gossip key rotated") {
		t.Fatalf("gossip-key rotate: %v\n%s", err, out)
	}
	for _, a := range all {
		if ms := members(t, a); !healthy(ms) {
			t.Fatalf("%s's view after the rotation: %+v; want every member alive", a.name, ms)
		}
	}
	if out, err := run(t, n3, "flavor", "create", "after-rotate", "--vcpus", "1", "--ram", "256"); err != nil {
		t.Fatalf("a write after the rotation: %v\n%s", err, out)
	}

	n3.kill()
	n3.start(t)
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name+" after n3's restart", func() bool { return healthy(members(t, a)) })
	}

	// A node down during a rotation learns the new key from Raft (mutual
	// TLS, no gossip needed) when it comes back.
	n3.kill()
	took := testkit.WaitEvery(t, cliPoll, 30*time.Second, "n1 to see n3 down", func() bool {
		for _, m := range members(t, n1) {
			if m.Name == "n3" {
				return m.Status != "alive"
			}
		}
		return false
	})
	start := time.Now()
	if out, err := run(t, n1, "cluster", "gossip-key", "rotate"); err != nil {
		t.Fatalf("gossip-key rotate with n3 down: %v\n%s", err, out)
	}
	t.Logf("n3 seen down after %v; the rotation without it took %v", took, time.Since(start))
	n3.start(t)
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name+" after n3 missed a rotation", func() (bool, string) {
			ms := members(t, a)
			return healthy(ms), fmt.Sprintf("%+v\nn3's log:\n%s", ms, n3.log)
		})
	}
}

// A node of one cluster is never taken into another. Its operator's
// mistakes: `shoal join` with another cluster's token on a member is
// refused, saying which cluster it is in, and spends nothing; a member
// restarted with another cluster's token and gossip address stays in its
// own cluster (its certificate, not the token, says which), and the
// other's gossip, under other keys, does not take it in.
func TestJoinRefusesNodeOfAnotherCluster(t *testing.T) {
	a, b := newAgent(t, "a1"), newAgent(t, "b1")
	a.start(t, "--bootstrap")
	b.start(t, "--bootstrap")
	for _, x := range []*agent{a, b} {
		testkit.WaitEvery(t, cliPoll, 15*time.Second, x.name+" to lead its cluster", func() bool { return leaderOf(members(t, x)) == x.name })
	}
	bCluster := health(t, b).ClusterID
	tokenA := joinToken(t, a)

	out, err := runAs(t, b, nil, "join", "--token", tokenA, "--data-dir", b.dir)
	if err == nil || !strings.Contains(out, "already a member of cluster "+bCluster) {
		t.Fatalf("shoal join on a member of another cluster: err=%v, output:\n%s\nwant it refused naming cluster %s", err, out, bCluster)
	}
	unspent(t, a)

	// A new node given --bootstrap and a token is refused before it makes
	// anything: it cannot both start a cluster and join one.
	c := newAgent(t, "c1")
	if out, err := exec.Command(shoalBin, "agent", "--name", c.name, "--data-dir", c.dir, "--driver", "fake",
		"--bootstrap", "--join-token", tokenA).CombinedOutput(); err == nil || !strings.Contains(string(out), "give one of them") {
		t.Fatalf("agent --bootstrap --join-token: err=%v, output:\n%s\nwant it refused, saying why", err, out)
	}
	if _, err := os.Stat(filepath.Join(cluster.TLSDir(c.dir), pki.CACertFile)); err == nil {
		t.Fatal("agent --bootstrap --join-token made a cluster CA")
	}
	unspent(t, a)

	b.kill()
	b.start(t, "--join", a.gossipAddr(), "--join-token", tokenA)
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "b1 to find a1's gossip closed to it", func() bool {
		return strings.Contains(b.log.String(), "gossip join failed") && strings.Contains(b.log.String(), a.gossipAddr())
	})
	testkit.WaitEvery(t, cliPoll, 30*time.Second, "b1 to lead its own cluster again", func() (bool, string) {
		h := health(t, b)
		return h.ClusterID == bCluster && h.Leader == b.name, fmt.Sprintf("%+v", h)
	})
	if ms := members(t, a); len(ms) != 1 || ms[0].Name != a.name {
		t.Fatalf("a1's members: %+v; want a1 alone", ms)
	}
	unspent(t, a)
}

// unspent fails the test unless every join token of a's cluster is unused.
func unspent(t *testing.T, a *agent) {
	t.Helper()
	for _, tok := range joinTokens(t, a) {
		if tok.Uses != 0 || tok.State != api.JoinTokenActive {
			t.Fatalf("join token %s: %d uses, %s; want it unspent", tok.ID, tok.Uses, tok.State)
		}
	}
}

// joinTokens lists a's cluster's join tokens with the CLI.
func joinTokens(t *testing.T, a *agent) []api.JoinTokenInfo {
	t.Helper()
	out, err := run(t, a, "cluster", "join-token", "list", "-o", "json")
	var list api.JoinTokenList
	if err != nil || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("join-token list: %v\n%s", err, out)
	}
	return list.JoinTokens
}
