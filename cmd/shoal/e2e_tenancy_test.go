//go:build e2e

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// tenant is a user of one project, as its own openrc would make it.
type tenant struct {
	name, project string
	env           []string
}

// newTenant has the admin create project (if needed) and user name with
// role on it, and returns the credentials the user would source.
func newTenant(t *testing.T, admin *agent, project, name, role string) tenant {
	t.Helper()
	if _, err := run(t, admin, "project", "show", project); err != nil {
		mustRun(t, admin, "project", "create", project)
	}
	password := "pw-" + name + "-0123456789"
	mustRun(t, admin, "user", "create", name, "--project", project, "--password", password)
	mustRun(t, admin, "role", "add", "--project", project, "--user", name, role)
	env := []string{"OS_AUTH_URL=" + openrcValue(t, admin.boot, "OS_AUTH_URL"), "OS_USERNAME=" + name,
		"OS_PASSWORD=" + password, "OS_PROJECT_NAME=" + project, "OS_USER_DOMAIN_NAME=Default",
		"OS_PROJECT_DOMAIN_NAME=Default", "XDG_CACHE_HOME=" + filepath.Join(t.TempDir(), "cache")}
	env = append(env, trust(t, admin)...)
	return tenant{name: name, project: project, env: env}
}

// as runs the CLI against a as the tenant.
func (tn tenant) run(t *testing.T, a *agent, args ...string) (string, error) {
	t.Helper()
	return runAs(t, a, tn.env, args...)
}

// Identity across the cluster: quotas hold when creates race through three
// nodes, projects see only their own servers, and a revoked token or a
// removed role is refused by every node.
func TestTenancyAcrossNodes(t *testing.T) {
	nodes := startCluster(t)
	n1 := nodes[0]
	mustRun(t, n1, "image", "create", "public-tiny", "--public", "--disk-format", "qcow2",
		"--file", writeFile(t, "public.qcow2", qcow2Image(64<<10, false)))
	alice := newTenant(t, n1, "demo", "alice", "member")
	bob := newTenant(t, n1, "other", "bob", "member")
	mustRun(t, n1, "quota", "set", "demo", "--instances", "2")

	// Nine creates at once, three through each node: exactly two get in.
	var (
		mu       sync.Mutex
		created  []string
		refusals []string
		wg       sync.WaitGroup
	)
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := alice.run(t, nodes[i%3], "server", "create", fmt.Sprintf("race%d", i), "--image", "public-tiny",
				"--flavor", "m1.tiny", "-o", "json")
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				created = append(created, out)
			} else {
				refusals = append(refusals, out)
			}
		}()
	}
	wg.Wait()
	if len(created) != 2 {
		t.Fatalf("%d of 9 racing creates under a quota of 2 succeeded; refusals:\n%s", len(created), strings.Join(refusals, ""))
	}
	for _, out := range refusals {
		if !strings.Contains(out, "HTTP 403") || !strings.Contains(out, "Quota exceeded for instances: Requested 1, but already used") ||
			!strings.Contains(out, "of 2 instances") {
			t.Errorf("a refused create says %q, want Nova's 403 quota message", out)
		}
	}
	for _, a := range nodes {
		testkit.WaitEvery(t, cliPoll, 10*time.Second, "alice's two servers listed by "+a.name, func() (bool, string) {
			out, err := alice.run(t, a, "server", "list", "-o", "json")
			return err == nil && strings.Count(out, `"race`) == 2, out
		})
	}
	id := listedID(t, alice, n1, "race")

	// Projects are apart: bob does not see alice's server, even by ID; the
	// admin sees it only when asking for every project.
	if out, err := bob.run(t, nodes[1], "server", "show", id); err == nil || !strings.Contains(out, "HTTP 404") {
		t.Errorf("bob showing alice's server: %v\n%s", err, out)
	}
	if out, _ := bob.run(t, nodes[2], "server", "list"); strings.Contains(out, "race") {
		t.Errorf("bob's server list shows alice's servers:\n%s", out)
	}
	if out := mustRun(t, n1, "server", "list"); strings.Contains(out, "race") {
		t.Errorf("the admin's plain server list shows another project's servers:\n%s", out)
	}
	if out := mustRun(t, n1, "server", "list", "--all-projects"); strings.Count(out, "race") != 2 {
		t.Errorf("server list --all-projects:\n%s", out)
	}
	if out, err := alice.run(t, nodes[1], "flavor", "create", "m1.evil"); err == nil || !strings.Contains(out, "HTTP 403") {
		t.Errorf("a member creating a flavor: %v\n%s", err, out)
	}

	// A token revoked through one node is refused by all three.
	token := tokenOf(t, alice, n1)
	withToken := append(trust(t, n1), "SHOAL_TOKEN="+token)
	for _, a := range nodes {
		if out, err := runAs(t, a, withToken, "server", "list"); err != nil {
			t.Fatalf("alice's token on %s before revoking: %v\n%s", a.name, err, out)
		}
	}
	mustRunAs(t, alice, nodes[1], "token", "revoke", token)
	for _, a := range nodes {
		testkit.WaitEvery(t, cliPoll, 10*time.Second, "the revoked token refused by "+a.name, func() (bool, string) {
			out, err := runAs(t, a, withToken, "server", "list")
			return err != nil && strings.Contains(out, "HTTP 401"), out
		})
	}

	// A user who loses its role loses its tokens on every node.
	token = tokenOf(t, bob, n1)
	mustRun(t, nodes[2], "role", "remove", "--project", "other", "--user", "bob", "member")
	for _, a := range nodes {
		testkit.WaitEvery(t, cliPoll, 10*time.Second, "bob's token refused by "+a.name, func() (bool, string) {
			out, err := runAs(t, a, append(trust(t, n1), "SHOAL_TOKEN="+token), "server", "list")
			return err != nil && strings.Contains(out, "HTTP 401"), out
		})
	}
}

func mustRunAs(t *testing.T, tn tenant, a *agent, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := cliCommand(ctx, a, tn.env, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: shoal %s: %v\n%s", tn.name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// tokenOf is a token of the tenant's, issued at a.
func tokenOf(t *testing.T, tn tenant, a *agent) string {
	t.Helper()
	out := mustRunAs(t, tn, a, "token", "issue", "-o", "json")
	var tok struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &tok); err != nil || tok.ID == "" {
		t.Fatalf("token issue -o json: %v\n%s", err, out)
	}
	return tok.ID
}

// listedID is the ID of one of the tenant's servers whose name starts with prefix.
func listedID(t *testing.T, tn tenant, a *agent, prefix string) string {
	t.Helper()
	for _, line := range strings.Split(mustRunAs(t, tn, a, "server", "list"), "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], prefix) {
			return f[0]
		}
	}
	t.Fatalf("no server named %s* in %s's list", prefix, tn.name)
	return ""
}
