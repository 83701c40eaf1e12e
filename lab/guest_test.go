//go:build lab

package lab_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/lab"
)

// TestLabGuest boots a tiny guest in a one-host lab and drives it: its
// serial console runs commands (Run), the host reaches its listeners over
// the bridge (libvirt's open-mode network and dnsmasq in a lab host), and
// the outside namespace is there.
func TestLabGuest(t *testing.T) {
	l := lab.Start(t, lab.Config{Hosts: 1})
	h1 := l.Host("h1")
	l.UploadTinyImage(h1)
	g := l.CreateGuest(h1, "lab-guest-1", h1)
	took := time.Now()
	s := g.WaitBooted(lab.BootTimeout)
	t.Logf("guest %s booted on %s with %s within %v", g.Name, s.Host, s.FixedIP(), time.Since(took).Round(time.Second))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		cmd, out string
		rc       int
	}{
		{"hostname", "lab-guest-1\n", 0},
		{"printf 'a b'", "a b", 0},
		{"false", "", 1},
		{"ip -4 -o addr show dev eth0 | grep -c " + s.FixedIP() + "/", "1\n", 0},
		// The tools the network scenarios use, against the guest's own
		// listeners.
		{`printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 127.0.0.1 80 | tail -n 1`, "lab-guest-1\n", 0},
	} {
		out, rc, err := g.Run(ctx, tc.cmd)
		if err != nil || out != tc.out || rc != tc.rc {
			console, _ := g.Console(ctx)
			t.Fatalf("Run(%q) = %q, %d, %v; want %q, %d\nconsole:\n%s", tc.cmd, out, rc, err, tc.out, tc.rc, console)
		}
	}
	if out, err := g.Dial(ctx, "127.0.0.1", 8080); err != nil || out != "lab-guest-1\n" {
		t.Errorf("guest dials its own 8080: %q, %v", out, err)
	}
	if err := g.Ping(ctx, s.FixedIP()); err != nil {
		t.Errorf("guest pings itself: %v", err)
	}
	for _, probe := range [][]string{
		{"curl", "-sS", "--max-time", "2", "http://" + s.FixedIP() + "/"},
		{"busybox", "nc", "-w", "2", s.FixedIP(), "8080"},
	} {
		if out, err := h1.Exec(ctx, probe...); err != nil || out != "lab-guest-1\n" {
			t.Errorf("from h1, %v: %q, %v", probe, out, err)
		}
	}
	if out, err := l.Outside(ctx, "ip", "-4", "-o", "addr", "show", "dev", "eth0"); err != nil ||
		!strings.Contains(out, "10.99.0.2/24") || !strings.Contains(out, "10.66.0.1/24") {
		t.Errorf("outside's addresses: %q, %v", out, err)
	}
	if out, err := l.Outside(ctx, "busybox", "ping", "-c", "1", "-W", "2", h1.Addr); err != nil {
		t.Errorf("outside pings h1: %v\n%s", err, out)
	}
}
