package network

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEnsureSysctls(t *testing.T) {
	root := t.TempDir()
	write := func(path, v string) {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) string {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	write("net/ipv4/ip_forward", "0\n")
	write("net/ipv4/neigh/shbr1/proxy_delay", "80\n")

	// No br_netfilter: said so, the rest done; no bridge yet: waited for.
	changed, err := ensureSysctls(root, "nobridge")
	if !errors.Is(err, ErrNoBridgeFilter) || !slices.Equal(changed, []string{"net/ipv4/ip_forward=1"}) {
		t.Fatalf("without br_netfilter: %q, %v", changed, err)
	}
	write("net/bridge/bridge-nf-call-iptables", "0\n")
	changed, err = ensureSysctls(root, "shbr1")
	if err != nil || !slices.Equal(changed, []string{"net/ipv4/neigh/shbr1/proxy_delay=0", "net/bridge/bridge-nf-call-iptables=1"}) {
		t.Fatalf("second pass: %q, %v", changed, err)
	}
	if read("net/ipv4/ip_forward") != "1\n" || read("net/ipv4/neigh/shbr1/proxy_delay") != "0\n" {
		t.Fatal("settings not written")
	}
	// Right already: nothing written (ip_forward would reset interfaces).
	if changed, err := ensureSysctls(root, "shbr1"); err != nil || len(changed) != 0 {
		t.Fatalf("third pass: %q, %v", changed, err)
	}
}
