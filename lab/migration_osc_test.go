//go:build lab

package lab_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"

	"github.com/shoal-project/shoal/lab"
)

// openstack runs Debian's openstack CLI as the lab's admin against via,
// the real client of the compute API (it negotiates its microversion), and
// returns its standard output.
func (m *migEnv) openstack(via *lab.Host, args ...string) string {
	m.t.Helper()
	env, err := m.lab.Admin.CLIEnv(via.URL(), m.t.TempDir())
	if err != nil {
		m.t.Fatal(err)
	}
	cmd := exec.Command("openstack", args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		m.t.Fatalf("openstack %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// oscMigrations is `openstack server migration list --server id` as rows
// of the columns it prints.
func (m *migEnv) oscMigrations(via *lab.Host, id string) []map[string]any {
	m.t.Helper()
	out := m.openstack(via, "server", "migration", "list", "--server", id, "-f", "json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		m.t.Fatalf("openstack server migration list: %v\n%s", err, out)
	}
	return rows
}
