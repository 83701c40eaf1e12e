//go:build e2e

package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// The bootstrap node's admin-openrc is all a user needs: sourced, the CLI
// works; without it the CLI says what is wrong. Its password is nowhere
// else on disk or in any log, and it survives the bootstrap node's restart.
func TestAdminOpenrc(t *testing.T) {
	nodes := startCluster(t)
	n1 := nodes[0]
	path := filepath.Join(n1.dir, "admin-openrc")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-openrc: %v, %v; want it private (0600)", st, err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	password := openrcValue(t, n1, "OS_PASSWORD")
	if len(password) < 32 {
		t.Fatalf("the made-up password is %d characters; want 24 random bytes, base64url", len(password))
	}
	for _, a := range nodes[1:] {
		if _, err := os.Stat(filepath.Join(a.dir, "admin-openrc")); err == nil {
			t.Errorf("%s, which joined, wrote an admin-openrc", a.name)
		}
	}

	t.Run("sourced, the CLI lists servers through every node", func(t *testing.T) {
		create(t, n1, "vm-openrc", "--flavor", "m1.tiny")
		for _, a := range nodes {
			if out := mustRun(t, a, "server", "list"); !strings.Contains(out, "vm-openrc") {
				t.Errorf("server list through %s:\n%s", a.name, out)
			}
		}
	})

	t.Run("without credentials, a clear 401", func(t *testing.T) {
		out, err := runAs(t, n1, trust(t, n1), "server", "list")
		if err == nil || !strings.Contains(out, "HTTP 401") || !strings.Contains(out, "admin-openrc") {
			t.Errorf("server list without credentials: %v\n%s\nwant a 401 saying to source an openrc", err, out)
		}
		env := append(n1.credentials(t), "OS_PASSWORD=wrong", "XDG_CACHE_HOME="+t.TempDir())
		if out, err := runAs(t, n1, env, "server", "list"); err == nil || !strings.Contains(out, "HTTP 401") {
			t.Errorf("server list with a wrong password: %v\n%s\nwant a 401", err, out)
		}
	})

	t.Run("the password is in admin-openrc alone", func(t *testing.T) {
		noPassword(t, nodes, password)
	})

	t.Run("a restart of the bootstrap node keeps admin-openrc and the password", func(t *testing.T) {
		n1.kill()
		n1.start(t, append([]string{"--bootstrap"}, fakeCapacity...)...)
		after, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(before, after) {
			t.Fatalf("admin-openrc after the restart: %v\n%s\nwant it as it was", err, after)
		}
		// A new token cache: the CLI logs in afresh at n1 with the password.
		fresh := append(n1.credentials(t), "XDG_CACHE_HOME="+t.TempDir())
		testkit.WaitEvery(t, cliPoll, 30*time.Second, "the admin to log in at the restarted n1", func() (bool, string) {
			out, err := runAs(t, n1, fresh, "server", "list")
			return err == nil && strings.Contains(out, "vm-openrc"), fmt.Sprintf("%v\n%s\nn1's log:\n%s", err, out, n1.log)
		})
		noPassword(t, nodes, password)
	})
}

// openrcValue is what sourcing a's cluster's admin-openrc sets key to.
func openrcValue(t *testing.T, a *agent, key string) string {
	t.Helper()
	for _, kv := range a.credentials(t) {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			return v
		}
	}
	t.Fatalf("admin-openrc sets no %s", key)
	return ""
}

// noPassword fails the test when password is in any file of any node's
// data dir (Raft's log and snapshots included) but admin-openrc, in any
// node's log, or in the CLI's token cache.
func noPassword(t *testing.T, nodes []*agent, password string) {
	t.Helper()
	for _, a := range append([]*agent{{name: "the CLI's token cache", dir: nodes[0].boot.cache, log: &testkit.SyncBuffer{}}}, nodes...) {
		files := 0
		err := filepath.WalkDir(a.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return err
			}
			files++
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(data, []byte(password)) && path != filepath.Join(a.dir, "admin-openrc") {
				t.Errorf("the admin's password is in %s", path)
			}
			return nil
		})
		if err != nil || files == 0 {
			t.Fatalf("reading %s's data dir: %d files, %v", a.name, files, err)
		}
		if bytes.Contains(a.log.Bytes(), []byte(password)) {
			t.Errorf("the admin's password is in %s's log", a.name)
		}
	}
}
