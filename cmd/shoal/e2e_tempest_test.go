//go:build e2e && libvirt

package main

import (
	"cmp"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTempest runs Debian's Tempest (33.0) compute API tests at the
// cluster's advertised microversions, pre-provisioned accounts, Neutron,
// Cinder and Swift off, against three nodes on this machine's libvirtd
// booting the tiny guest: scripts/tempest/run.sh does the configuring,
// the run and the per-class summary. By default the smoke subset (what
// scripts/test.sh runs); SHOAL_TEMPEST=full runs every compute API test
// (about 7 min here, 500 tests: give go test a -timeout to match), any other value is a
// `tempest run --regex`. The test fails when any Tempest test fails.
func TestTempest(t *testing.T) {
	suite := cmp.Or(os.Getenv("SHOAL_TEMPEST"), "smoke")
	if _, err := exec.LookPath("tempest"); err != nil {
		t.Fatalf("Debian's tempest is missing (%v): run scripts/setup-openstack-clients.sh", err)
	}
	image := tinyImage(t)
	nodes := startLibvirtCluster(t, "tp", "10.76.0.0/24")
	cmd := exec.Command(filepath.Join(repoRoot(t), "scripts", "tempest", "run.sh"), suite)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "OS_") && !strings.HasPrefix(k, "SHOAL_") && k != "XDG_CACHE_HOME" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, nodes[0].credentials(t)...)
	cmd.Env = append(cmd.Env, "SHOAL="+shoalBin, "SHOAL_TINY_IMAGE="+image, "SHOAL_TEMPEST_DIR="+t.TempDir())
	// Tempest prints each test as it ends: a long run shows its progress.
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/tempest/run.sh %s: %v (the per-class summary is above)", suite, err)
	}
}
