//go:build e2e

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	shoalagent "github.com/shoal-project/shoal/cmd/shoal/agent"
	"github.com/shoal-project/shoal/internal/testkit"
)

// These tests drive the real binary: three agents on loopback, the CLI against
// them, kill -9 of the leader. They are the acceptance checks.

var shoalBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "shoal-e2e-bin")
	if err != nil {
		panic(err)
	}
	shoalBin = filepath.Join(dir, "shoal")
	out, err := exec.Command("go", "build", "-o", shoalBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building shoal: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type agent struct {
	name                   string
	dir                    string
	http, gossip, raftPort int
	cmd                    *exec.Cmd
	exited                 chan struct{} // closed when cmd has exited
	log                    *testkit.SyncBuffer

	// boot is the node that bootstrapped this one's cluster: the CLI runs
	// through this node as a user would, with boot's admin-openrc sourced.
	boot *agent
	// cache is the XDG_CACHE_HOME of the CLI runs through a cluster (set
	// on its boot node): they share one token cache, as a user's do.
	cache string
	// openrc is what sourcing boot's admin-openrc sets, read once.
	openrc []string
}

func (a *agent) addr() string       { return fmt.Sprintf("https://127.0.0.1:%d", a.http) }
func (a *agent) gossipAddr() string { return fmt.Sprintf("127.0.0.1:%d", a.gossip) }

// byGossip finds the agent a --join names, to tell whose cluster it joins.
var byGossip sync.Map // gossip address → *agent

func newAgent(t *testing.T, name string) *agent {
	a := &agent{name: name, dir: t.TempDir(), http: freePort(t), gossip: freePort(t), raftPort: freePort(t), cache: t.TempDir()}
	byGossip.Store(a.gossipAddr(), a)
	t.Cleanup(func() { byGossip.Delete(a.gossipAddr()) })
	return a
}

// joined records that a is now in the cluster of member (joined with
// `shoal join` through its socket, which names no agent flag).
func (a *agent) joined(member *agent) { a.boot = member.boot }

// member reports whether a holds its cluster certificate: it bootstrapped
// or joined, and restarts as a member whatever its flags.
func (a *agent) member() bool {
	_, err := os.Stat(filepath.Join(cluster.TLSDir(a.dir), pki.NodeCertFile))
	return err == nil
}

// start runs the agent with its name, data dir and ports plus extra flags,
// and waits until it serves. A new node that --join's a member joins with a
// join token its cluster's admin makes with the CLI (unless extra gives
// one), as an operator does; a new node with neither --join nor --bootstrap
// is blank: it waits on its socket for `shoal join` (see joinBlank).
func (a *agent) start(t *testing.T, extra ...string) {
	t.Helper()
	blank := false
	switch {
	case slices.Contains(extra, "--bootstrap"):
		a.boot = a
	case a.member():
	case slices.Contains(extra, "--join"):
		i := slices.Index(extra, "--join")
		m, ok := byGossip.Load(extra[i+1])
		if !ok {
			t.Fatalf("%s joins %s, which no agent of this test gossips at", a.name, extra[i+1])
		}
		a.joined(m.(*agent))
		if !slices.Contains(extra, "--join-token") {
			extra = append(slices.Clone(extra), "--join-token", joinToken(t, m.(*agent)))
		}
	default:
		blank = true
	}
	exited := a.spawn(t, extra...)
	if blank {
		testkit.WaitEvery(t, cliPoll, 15*time.Second, a.name+" to wait on its socket", func() (bool, string) {
			h, err := localHealth(a)
			return h.Status == shoalagent.StatusWaiting && a.alive(t, exited), fmt.Sprintf("%+v, %v", h, err)
		})
		return
	}
	a.waitServing(t, exited)
	if a.boot == a {
		// A new cluster's admin logs in once the node has bootstrapped it
		// and published its key; a restarted one at once.
		testkit.WaitEvery(t, cliPoll, 30*time.Second, a.name+"'s admin to log in", func() (bool, string) {
			out, err := run(t, a, "token", "issue")
			return err == nil, out
		})
	}
}

// spawn starts the agent process; the channel is closed when it exits.
func (a *agent) spawn(t *testing.T, extra ...string) chan struct{} {
	t.Helper()
	args := append([]string{"agent", "--name", a.name, "--data-dir", a.dir, "--driver", "fake",
		"--http-port", fmt.Sprint(a.http), "--gossip-port", fmt.Sprint(a.gossip), "--raft-port", fmt.Sprint(a.raftPort)}, extra...)
	a.log = &testkit.SyncBuffer{}
	a.cmd = exec.Command(shoalBin, args...)
	a.cmd.Stdout, a.cmd.Stderr = a.log, a.log
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", a.name, err)
	}
	exited := make(chan struct{})
	cmd := a.cmd
	go func() { _ = cmd.Wait(); close(exited) }()
	a.exited = exited
	t.Cleanup(func() { a.kill() })
	return exited
}

// alive fails the test at once when the agent has exited.
func (a *agent) alive(t *testing.T, exited chan struct{}) bool {
	t.Helper()
	select {
	case <-exited:
		t.Fatalf("%s exited; its log:\n%s", a.name, a.log)
	default:
	}
	return true
}

// waitServing waits until a answers its health over HTTPS, verified with
// its cluster's CA.
func (a *agent) waitServing(t *testing.T, exited chan struct{}) {
	t.Helper()
	testkit.WaitEvery(t, cliPoll, 30*time.Second, a.name+" to serve HTTPS", func() (bool, string) {
		a.alive(t, exited)
		hc, err := a.httpClient()
		if err != nil {
			return false, err.Error()
		}
		defer hc.CloseIdleConnections()
		resp, err := hc.Get(a.addr() + "/v1/health")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return true, ""
	})
}

// httpClient is an HTTPS client that trusts a's cluster CA, as a user's
// OS_CACERT makes the CLI do.
func (a *agent) httpClient() (*http.Client, error) {
	if a.boot == nil {
		return nil, fmt.Errorf("%s is in no cluster", a.name)
	}
	pool, err := client.LoadCA(filepath.Join(cluster.TLSDir(a.boot.dir), pki.CACertFile))
	if err != nil {
		return nil, err
	}
	return client.HTTPClient(client.WithCA(pool)), nil
}

// joinToken is a join token of m's cluster, made by its admin with the CLI
// (`shoal cluster join-token create` plus flags), which prints it alone on
// stdout.
func joinToken(t *testing.T, m *agent, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := cliCommand(ctx, m, m.credentials(t), append([]string{"cluster", "join-token", "create"}, flags...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	token := strings.TrimSuffix(string(out), "\n")
	if err != nil || !strings.HasPrefix(token, "shoaljoin1_") || strings.ContainsAny(token, " \n") {
		t.Fatalf("shoal cluster join-token create: %v\nstdout: %q\nstderr: %s", err, out, &stderr)
	}
	return token
}

// joinBlank joins the blank agent a to m's cluster as its operator does:
// a token from m's admin, then `shoal join --token` on a's host, which
// reaches a's agent through the socket in its data dir. It waits until a
// serves.
func (a *agent) joinBlank(t *testing.T, m *agent) {
	t.Helper()
	token := joinToken(t, m)
	if out, err := runAs(t, a, nil, "join", "--token", token, "--data-dir", a.dir); err != nil {
		t.Fatalf("shoal join: %v\n%s\nagent log:\n%s", err, out, a.log)
	}
	a.joined(m)
	a.waitServing(t, a.exited)
}

// localHealth is the agent's health through its socket.
func localHealth(a *agent) (shoalagent.LocalHealth, error) {
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", filepath.Join(a.dir, shoalagent.SocketFile))
		}}}
	defer hc.CloseIdleConnections()
	var h shoalagent.LocalHealth
	resp, err := hc.Get("http://shoal" + shoalagent.LocalHealthPath)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	return h, json.NewDecoder(resp.Body).Decode(&h)
}

func (a *agent) kill() {
	if a.cmd != nil && a.cmd.Process != nil {
		_ = a.cmd.Process.Signal(syscall.SIGKILL)
		<-a.exited
		a.cmd = nil
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// run runs the shoal CLI against an agent as its cluster's admin and
// returns its output.
func run(t *testing.T, a *agent, args ...string) (string, error) {
	t.Helper()
	return runAs(t, a, a.credentials(t), args...)
}

// runAs runs the shoal CLI against an agent with env (credentials) added
// to an environment cleared of any the test process has.
func runAs(t *testing.T, a *agent, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := cliCommand(ctx, a, env, args...).CombinedOutput()
	return string(out), err
}

// cliCommand is the shoal CLI run against a with only env's credentials.
func cliCommand(ctx context.Context, a *agent, env []string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, shoalBin, append([]string{"--addr", a.addr()}, args...)...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "OS_") && k != "SHOAL_TOKEN" && k != "XDG_CACHE_HOME" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// credentials is what a user of a's cluster has: its bootstrap node's
// admin-openrc, sourced, and a token cache. A node in no cluster yet gets
// none.
func (a *agent) credentials(t *testing.T) []string {
	t.Helper()
	b := a.boot
	if b == nil {
		return nil
	}
	if b.openrc == nil {
		b.openrc = sourced(t, filepath.Join(b.dir, "admin-openrc"))
	}
	return append(slices.Clone(b.openrc), "XDG_CACHE_HOME="+b.cache)
}

// trust is what every user of a's cluster is handed besides credentials:
// the cluster CA (OS_CACERT), for the CLI to verify the API with.
func trust(t *testing.T, a *agent) []string {
	t.Helper()
	return []string{"OS_CACERT=" + openrcValue(t, a, "OS_CACERT")}
}

// token is a token of a's cluster admin, for raw HTTP calls.
func token(t *testing.T, a *agent) string {
	t.Helper()
	out, err := run(t, a, "token", "issue", "-o", "json")
	var tok struct {
		ID string `json:"id"`
	}
	if err != nil || json.Unmarshal([]byte(out), &tok) != nil || tok.ID == "" {
		t.Fatalf("token issue: %v\n%s", err, out)
	}
	return tok.ID
}

func members(t *testing.T, a *agent) []api.Member {
	t.Helper()
	out, err := run(t, a, "members", "-o", "json")
	if err != nil {
		return nil
	}
	var list struct {
		Members []api.Member `json:"members"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("members -o json is not JSON: %v\n%s", err, out)
	}
	return list.Members
}

// healthy: 3 alive members, exactly one leader, three voters.
// statsVCPUs is the vCPU total that `hypervisor stats` reports through a,
// or -1 when it cannot be read.
func statsVCPUs(t *testing.T, a *agent) int {
	out, err := run(t, a, "hypervisor", "stats", "-o", "json")
	var stats struct {
		Stats struct {
			VCPUs int `json:"vcpus"`
		} `json:"hypervisor_statistics"`
	}
	if err != nil || json.Unmarshal([]byte(out), &stats) != nil {
		return -1
	}
	return stats.Stats.VCPUs
}

func healthy(ms []api.Member) bool {
	alive, leaders, voters := 0, 0, 0
	for _, m := range ms {
		if m.Status == "alive" {
			alive++
		}
		if m.Role == "leader" {
			leaders++
		}
		if m.Role == "leader" || m.Role == "follower" {
			voters++
		}
	}
	return len(ms) == 3 && alive == 3 && leaders == 1 && voters == 3
}

func leaderOf(ms []api.Member) string {
	for _, m := range ms {
		if m.Role == "leader" {
			return m.Name
		}
	}
	return ""
}

// cliPoll is how often the e2e waits check: most checks run the CLI or
// call an agent, which costs more than an in-process look.
const cliPoll = 100 * time.Millisecond

func TestAcceptance(t *testing.T) {
	n1, n2, n3 := newAgent(t, "n1"), newAgent(t, "n2"), newAgent(t, "n3")
	all := []*agent{n1, n2, n3}
	n1.start(t, "--bootstrap")
	// n2 joins in one command: --join and a token from n1's admin.
	n2.start(t, "--join", n1.gossipAddr())
	// n3 starts blank, holding no cluster, and is joined on its own host
	// with `shoal join --token` through its socket.
	n3.start(t)
	n3.joinBlank(t, n1)
	for _, a := range all {
		took := testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name, func() bool { return healthy(members(t, a)) })
		t.Logf("%s sees 3 alive members, one leader, three voters after %v", a.name, took)
	}

	leader := leaderOf(members(t, n1))
	var follower *agent
	for _, a := range all {
		if a.name != leader {
			follower = a
			break
		}
	}
	if out, err := run(t, follower, "flavor", "create", "e2e.small", "--vcpus", "2", "--ram", "1024", "--disk", "10"); err != nil {
		t.Fatalf("flavor create through follower %s: %v\n%s", follower.name, err, out)
	}
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 10*time.Second, "e2e.small listed on "+a.name, func() bool {
			out, err := run(t, a, "flavor", "list")
			return err == nil && strings.Contains(out, "e2e.small") && strings.Contains(out, "m1.tiny")
		})
	}

	t.Run("bad input changes nothing", func(t *testing.T) { badInput(t, follower) })

	// kill -9 the leader; a survivor must lead and take writes.
	var dead *agent
	var survivors []*agent
	for _, a := range all {
		if a.name == leader {
			dead = a
		} else {
			survivors = append(survivors, a)
		}
	}
	dead.kill()
	took := testkit.WaitEvery(t, cliPoll, 30*time.Second, "a new leader that accepts writes", func() bool {
		_, err := run(t, survivors[0], "flavor", "create", "after-kill", "--vcpus", "1", "--ram", "256")
		return err == nil
	})
	t.Logf("after kill -9 of leader %s: a survivor led and accepted a write within %v", dead.name, took)

	// Restart with only its name, data dir and ports: it rejoins and catches up.
	dead.start(t)
	testkit.WaitEvery(t, cliPoll, 30*time.Second, dead.name+" to rejoin and list every flavor", func() bool {
		out, err := run(t, dead, "flavor", "list")
		return err == nil && strings.Contains(out, "e2e.small") && strings.Contains(out, "after-kill")
	})
	for _, a := range all {
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "a healthy 3-node view on "+a.name+" after restart", func() bool { return healthy(members(t, a)) })
	}

	// A graceful leave takes the node out of Raft and stops its agent.
	if out, err := run(t, dead, "leave"); err != nil {
		t.Fatalf("shoal leave: %v\n%s", err, out)
	}
	select {
	case <-dead.exited:
		dead.cmd = nil
	case <-time.After(20 * time.Second):
		t.Fatalf("%s still running 20 s after leave", dead.name)
	}
	testkit.WaitEvery(t, cliPoll, 15*time.Second, dead.name+" shown as left and out of Raft", func() bool {
		for _, m := range members(t, survivors[0]) {
			if m.Name == dead.name {
				return m.Status == "left" && m.Role == "none"
			}
		}
		return false
	})
}

// health is a's GET /v1/health over HTTPS.
func health(t *testing.T, a *agent) api.Health {
	t.Helper()
	hc, err := a.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(a.addr() + "/v1/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h api.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

func badInput(t *testing.T, a *agent) {
	before, _ := run(t, a, "flavor", "list", "-o", "json")
	tok := token(t, a)
	hc, err := a.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, body, kind string }{
		{"malformed JSON", `{"flavor":{"name":"x",`, "invalid"},
		{"unknown field", `{"flavor":{"name":"x","vcpus":1,"ram":64,"disk":1,"color":"red"}}`, "invalid"},
		{"negative ram", `{"flavor":{"name":"x","vcpus":1,"ram":-64,"disk":1}}`, "invalid"},
		{"negative disk", `{"flavor":{"name":"x","vcpus":1,"ram":64,"disk":-1}}`, "invalid"},
		{"lone surrogate", `{"flavor":{"name":"x\ud800","vcpus":1,"ram":64,"disk":1}}`, "invalid"},
		{"duplicate name", `{"flavor":{"name":"e2e.small","vcpus":1,"ram":64,"disk":1}}`, "conflict"},
	} {
		req, err := http.NewRequest(http.MethodPost, a.addr()+"/v1/flavors", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth-Token", tok)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var body struct {
			Error struct {
				Code    int    `json:"code"`
				Kind    string `json:"kind"`
				Message string `json:"message"`
			} `json:"error"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode > 499 || err != nil || body.Error.Code != resp.StatusCode ||
			body.Error.Kind != tc.kind || body.Error.Message == "" {
			t.Errorf("%s: status %d, body %+v, decode err %v; want a 4xx JSON error of kind %s", tc.name, resp.StatusCode, body, err, tc.kind)
		}
	}
	after, _ := run(t, a, "flavor", "list", "-o", "json")
	if before != after {
		t.Errorf("bad input changed the flavors:\nbefore %s\nafter  %s", before, after)
	}
}
