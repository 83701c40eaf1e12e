//go:build e2e && libvirt

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// The harness of the OpenStack client tests: a 3-node cluster on this
// machine's libvirtd, and Debian's `openstack` CLI run as a user who sourced
// its admin-openrc. Each command is a subtest, so `go test -v` prints ok or
// FAIL per command (with the CLI's error and the HTTP calls it made), the
// test goes on past a failure, and fails at the end if any failed: while the
// OpenStack routes land one by one, a run is their progress report.

// startLibvirtCluster brings up prefix1 (bootstrap), prefix2 and prefix3
// (joined with tokens) with the libvirt driver, the tenant network cidr and
// a metadata port each, and waits until all three are healthy and report
// capacity. Everything they leave on this machine (domains, storage pools,
// the libvirt network, nftables tables, routes, sysctls) goes at cleanup,
// after all three are killed.
func startLibvirtCluster(t *testing.T, prefix, cidr string) []*agent {
	t.Helper()
	gateway := strings.TrimSuffix(cidr, "0/24") + "1"
	// QEMU runs as libvirt-qemu and must traverse every directory above the
	// instance disks.
	shared := testkit.SharedDir(t, "shoal-e2e-"+prefix+"-", 0o711)
	var nodes []*agent
	for i := 1; i <= 3; i++ {
		a := newAgent(t, fmt.Sprintf("%s%d", prefix, i))
		a.dir = filepath.Join(shared, a.name)
		cleanupLibvirt(t, a.name, gateway)
		cleanupNetwork(t, a)
		nodes = append(nodes, a)
	}
	flags := func(a *agent, extra ...string) []string {
		return append(extra, "--driver", "libvirt", "--network-cidr", cidr, "--metadata-port", fmt.Sprint(freePort(t)))
	}
	nodes[0].start(t, flags(nodes[0], "--bootstrap")...)
	for _, a := range nodes[1:] {
		a.start(t, flags(a, "--join", nodes[0].gossipAddr())...)
	}
	// Cleanups run last first: this one, registered after every agent's,
	// kills all three, and the fence guards they started (which outlive
	// an agent by design and would act on the node once its lease ran
	// out, after the cleanups), before any node's data plane is taken away.
	t.Cleanup(func() {
		for _, a := range nodes {
			a.kill()
			stopGuard(t, a)
		}
	})
	testkit.WaitEvery(t, cliPoll, 60*time.Second, "a healthy 3-node view", func() bool { return healthy(members(t, nodes[0])) })
	for _, a := range nodes {
		testkit.WaitEvery(t, cliPoll, 60*time.Second, a.name+"'s capacity in Raft", func() bool {
			h, ok := hypervisorOf(t, nodes[0], a.name)
			return ok && h.VCPUs > 0
		})
	}
	return nodes
}

// stopGuard ends the fence guard a's agent started (its pid is in the data
// dir), with SIGTERM, on which it exits at once, and waits until it has.
// A pid whose command line is not a's guard is left alone.
func stopGuard(t *testing.T, a *agent) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(a.dir, "fence-guard.pid"))
	if err != nil {
		return // no guard started (or the agent never got that far)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return
	}
	guard := func() bool {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return err == nil && bytes.Contains(cmdline, []byte("fence-guard")) && bytes.Contains(cmdline, []byte(a.dir))
	}
	if !guard() {
		return
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Errorf("stopping %s's fence guard (pid %d): %v", a.name, pid, err)
		return
	}
	testkit.WaitEvery(t, cliPoll, 30*time.Second, a.name+"'s fence guard to exit", func() bool { return !guard() })
}

// openstackCLI runs Debian's `openstack` (python3-openstackclient) with the
// environment sourcing a's cluster's admin-openrc gives (OS_AUTH_URL over
// HTTPS, OS_CACERT), a home of its own (no clouds.yaml of the machine's
// user) and nothing else of the test's OS_ variables.
type openstackCLI struct {
	env     []string
	results []cliResult
}

// cliResult is one command's outcome, for the closing summary.
type cliResult struct {
	name string
	ok   bool
	took time.Duration
}

func newOpenStackCLI(t *testing.T, a *agent) *openstackCLI {
	t.Helper()
	if _, err := exec.LookPath("openstack"); err != nil {
		t.Fatalf("Debian's openstack CLI is missing (%v): run scripts/setup-openstack-clients.sh (python3-openstackclient)", err)
	}
	c := &openstackCLI{}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "OS_") && k != "HOME" && k != "XDG_CACHE_HOME" && k != "XDG_CONFIG_HOME" {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "HOME="+t.TempDir())
	c.env = append(c.env, a.credentials(t)...)
	return c
}

// exec runs `openstack --debug ARGS` and returns its stdout and stderr.
// --debug changes nothing on stdout; its stderr names every HTTP call,
// which a failure reports (httpCalls). Keystoneauth masks the password and
// token headers there; response bodies (a generated private key) are never
// printed.
func (c *openstackCLI) exec(args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openstack", append([]string{"--debug"}, args...)...)
	cmd.Env = c.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// step runs one command of the list as the subtest name: ok when
// `openstack ARGS` exits 0 and check (if any) accepts its stdout. check
// fails its t with what it found. It reports whether the step passed.
func (c *openstackCLI) step(t *testing.T, name string, args []string, check func(t *testing.T, out string)) bool {
	t.Helper()
	start := time.Now()
	ok := t.Run(name, func(t *testing.T) {
		out, stderr, err := c.exec(args...)
		if err != nil {
			t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, failure(stderr))
		}
		if check != nil {
			check(t, out)
		}
	})
	c.results = append(c.results, cliResult{name: name, ok: ok, took: time.Since(start)})
	return ok
}

// summary logs one line per command and how many passed.
func (c *openstackCLI) summary(t *testing.T) {
	t.Helper()
	var b strings.Builder
	passed := 0
	for _, r := range c.results {
		mark := "FAILED"
		if r.ok {
			mark, passed = "ok", passed+1
		}
		fmt.Fprintf(&b, "\n  %-6s %6.1fs  openstack %s", mark, r.took.Seconds(), r.name)
	}
	t.Logf("openstack CLI: %d of %d commands ok%s", passed, len(c.results), b.String())
}

// urllib3 logs each request under --debug as
// `https://host:port "GET /path?query HTTP/1.1" 404 123`.
var httpCall = regexp.MustCompile(`^https?://\S+ "([A-Z]+) (\S+) HTTP/1\.[01]" (\d{3})`)

// failure is what a failed command says: its error (the message OSC prints
// as `clean_up <Command>: <message>` under --debug, and a delete's "Failed
// to delete …" per item; else stderr's tail) and
// the HTTP calls it made, with their statuses.
func failure(stderr string) string {
	var msg, calls []string
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	for _, l := range lines {
		if m := httpCall.FindStringSubmatch(l); m != nil {
			calls = append(calls, fmt.Sprintf("    %s %s -> %s", m[1], m[2], m[3]))
		}
		if rest, ok := strings.CutPrefix(l, "clean_up "); ok {
			if _, m, ok := strings.Cut(rest, ": "); ok {
				msg = append(msg, m)
			}
		} else if strings.HasPrefix(l, "Failed to ") { // each item of a delete
			msg = append(msg, l)
		}
	}
	if len(msg) == 0 {
		msg = lines[max(0, len(lines)-5):]
	}
	return "  error: " + strings.Join(msg, "\n  ") + "\n  HTTP calls:\n" + strings.Join(calls, "\n")
}

// object decodes a `show`/`create` answer of `-f json`.
func object(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, truncate(out))
	}
	return m
}

// rows decodes a `list` answer of `-f json`.
func rows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rs []map[string]any
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("not a JSON list: %v\n%s", err, truncate(out))
	}
	return rs
}

// str is a field as text ("" when absent or null).
func str(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// row is the first row whose column holds value.
func row(rs []map[string]any, column, value string) (map[string]any, bool) {
	for _, r := range rs {
		if str(r, column) == value {
			return r, true
		}
	}
	return nil, false
}

// want fails t unless the object's key is value.
func want(t *testing.T, m map[string]any, key, value string) {
	t.Helper()
	if got := str(m, key); got != value {
		t.Fatalf("%s = %q, want %q; whole answer: %s", key, got, value, truncate(fmt.Sprint(m)))
	}
}

// wantRow fails t unless some row's column is value, and returns that row.
func wantRow(t *testing.T, out, column, value string) map[string]any {
	t.Helper()
	r, ok := row(rows(t, out), column, value)
	if !ok {
		t.Fatalf("no row with %s %q in:\n%s", column, value, truncate(out))
	}
	return r
}

func truncate(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}
