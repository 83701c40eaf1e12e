package lab

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
)

// What the migration scenarios ask of a tiny guest that moves between
// hosts: whether it rebooted, and when a boot that the move caused (a
// resize, a revert, a rebuild) is done.

// BootID is the guest kernel's boot ID (/proc/sys/kernel/random/boot_id):
// a new one on every boot, the same across a live migration.
func (g *Guest) BootID(ctx context.Context) (string, error) {
	out, err := g.runOK(ctx, "cat /proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(out), err
}

// Boots counts the boots the guest's console log on host shows.
func (g *Guest) Boots(host string) (int, error) {
	log, err := g.console(host)
	return strings.Count(log, markBooting), err
}

// ConsoleSize is the size of the guest's console log on host now, 0 when
// there is none: WaitBootOn's offset.
func (g *Guest) ConsoleSize(host string) int64 {
	h := g.lab.hostNamed(host)
	if h == nil {
		return 0
	}
	fi, err := os.Stat(h.ConsoleLogPath(g.ID))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// WaitBootOn waits until the guest's console log on host shows, after
// offset (ConsoleSize before the action that boots it; the whole log when
// it has shrunk since, being a new file), a boot that got as far as its
// listeners. Unlike WaitBooted it does not ask for ACTIVE: a resized guest
// boots in VERIFY_RESIZE.
func (g *Guest) WaitBootOn(host string, offset int64, timeout time.Duration) {
	g.lab.t.Helper()
	h := g.lab.hostNamed(host)
	if h == nil {
		g.lab.t.Fatalf("guest %s: no lab host %q", g.Name, host)
	}
	testkit.WaitEvery(g.lab.t, Poll, timeout, fmt.Sprintf("guest %s booted on %s", g.Name, host), func() (bool, string) {
		path := h.ConsoleLogPath(g.ID)
		from := offset
		if fi, err := os.Stat(path); err != nil {
			return false, err.Error()
		} else if fi.Size() < offset {
			from = 0
		}
		boot := lastBoot(readFrom(path, from))
		switch {
		case !strings.Contains(boot, markBooting):
			return false, "no new boot on the console yet"
		case strings.Contains(boot, markDHCPFail):
			g.lab.t.Fatalf("guest %s on %s: dhcp failed; console:\n%s", g.Name, host, tail(boot, 30))
		case !strings.Contains(boot, markListening):
			return false, "booting:\n" + tail(boot, 5)
		}
		return true, ""
	})
}
