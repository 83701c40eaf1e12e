package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// TestQuotaCommands: quota show/set and limits against the real API.
func TestQuotaCommands(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	ts := httptest.NewServer(newIdentityNode(t))
	t.Cleanup(ts.Close)
	run := func(args string) string {
		t.Helper()
		out, errOut, err := runAdmin(t, ts.URL, "", args)
		if err != nil {
			t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
		}
		return out
	}
	if out := run("quota set admin --instances 2 --ram 1024"); !strings.Contains(out, "instances             2\n") || !strings.Contains(out, "ram                   1024\n") {
		t.Errorf("quota set printed\n%s", out)
	}
	// No PROJECT: the token's own, found by validating it.
	if out := run("quota show"); !strings.Contains(out, "project               "+identitytest.AdminProjectID+"\n") || !strings.Contains(out, "instances             2\n") {
		t.Errorf("quota show printed\n%s", out)
	}
	if out := run("quota show admin --default"); !strings.Contains(out, "instances             10\n") {
		t.Errorf("quota show --default printed\n%s", out)
	}
	if out := run("limits --project admin"); !strings.Contains(out, "maxTotalInstances      2\n") || !strings.Contains(out, "totalInstancesUsed     0\n") {
		t.Errorf("limits printed\n%s", out)
	}
	if out := run("limits -o json"); !strings.Contains(out, `"maxTotalRAMSize": 1024`) || !strings.Contains(out, `"rate": []`) {
		t.Errorf("limits -o json printed\n%s", out)
	}
}
