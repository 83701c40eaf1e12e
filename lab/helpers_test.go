//go:build lab

package lab_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

const (
	flavor = "lab.blank" // flavorVCPUs, flavorRAM, flavorDisk
	image  = "lab-blank" // 64 MiB blank qcow2

	flavorVCPUs = 1
	flavorRAM   = 64 // MiB
	flavorDisk  = 1  // GiB

	failoverTimeout = 90 * time.Second
	settleTimeout   = 90 * time.Second
)

// env is one lab bring-up with its checker, flavor and image.
type env struct {
	t   *testing.T
	lab *lab.Lab
	chk *lab.Checker
}

func setup(t *testing.T) *env {
	l := lab.Start(t, lab.Config{})
	chk := lab.StartChecker(t, l)
	t.Cleanup(func() { chk.Check(t) }) // before the checker stops
	e := &env{t: t, lab: l, chk: chk}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.Hosts[0].API.CreateFlavor(ctx, flavor, flavorVCPUs, flavorRAM, flavorDisk); err != nil {
		t.Fatalf("creating flavor %s: %v", flavor, err)
	}
	l.UploadBlankImage(l.Hosts[1], image)
	l.LiftAdminQuota(l.Hosts[1])
	e.warmUp()
	return e
}

// warmUp runs one server on every host and deletes it, so that every host
// caches the image. Otherwise the uploading host holds the only copy, and
// when it is the one cut off, evacuation fails for want of the image, which
// is not what these scenarios test.
func (e *env) warmUp() {
	e.t.Helper()
	var all []string
	for _, h := range e.lab.Hosts {
		all = append(all, ids(e.create(h, "warmup-"+h.Name, 1, h))...)
	}
	e.waitPlaced(settleTimeout, "a warm-up server on every host", all, "")
	e.remove(all)
}

// sized is want, or fewer when some host has room for fewer lab.blank
// servers: a scenario may put them all on one host (forced there, or
// evacuated there). A host's room is counted with fsm.Fit (the scheduler's
// rule) on what it reports, less its reservations, at the agents' default
// allocation ratios, with what is claimed on it. It logs the count it chose.
func (e *env) sized(want int) int {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	hvs, err := e.leader().API.Hypervisors(ctx)
	if err != nil || len(hvs) == 0 {
		e.t.Fatalf("hypervisors: %v (%d listed)", err, len(hvs))
	}
	request := fsm.Resources{VCPUs: flavorVCPUs, MemoryMiB: flavorRAM, DiskGiB: flavorDisk}
	n, notes := want, make([]string, 0, len(hvs))
	for _, h := range hvs {
		capacity := fsm.Resources{VCPUs: h.VCPUs, MemoryMiB: h.MemoryMiB, DiskGiB: h.DiskGiB}
		claimed := fsm.Resources{VCPUs: h.VCPUsUsed, MemoryMiB: h.MemoryMiBUsed, DiskGiB: h.DiskGiBUsed}
		room := 0
		for ; room < want; room++ {
			if _, ok := fsm.Fit(capacity, claimed, request, fsm.DefaultRatios); !ok {
				break
			}
			claimed.VCPUs += request.VCPUs
			claimed.MemoryMiB += request.MemoryMiB
			claimed.DiskGiB += request.DiskGiB
		}
		n = min(n, room)
		notes = append(notes, fmt.Sprintf("%s: %d (%d vCPUs, %d MiB, %d GiB)", h.Name, room, h.VCPUs, h.MemoryMiB, h.DiskGiB))
	}
	e.t.Logf("sized to %d of %d servers; room for %s per host (up to %d): %s", n, want, flavor, want, strings.Join(notes, "; "))
	if n < 1 {
		e.t.Fatalf("a host has no room for a single %s server", flavor)
	}
	return n
}

// trials is $SHOAL_LAB_TRIALS, default 10.
// reported returns one Figures per name; those that hold any figure are
// logged and printed when the test ends, failed or not.
func reported(t *testing.T, names ...string) []*lab.Figures {
	all := make([]*lab.Figures, len(names))
	for i, name := range names {
		all[i] = &lab.Figures{Name: name}
	}
	t.Cleanup(func() {
		for _, f := range all {
			if len(f.All) > 0 {
				t.Log(f)
				fmt.Println(f)
			}
		}
	})
	return all
}

func trials(t *testing.T) int {
	n := 10
	if s := os.Getenv("SHOAL_LAB_TRIALS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("SHOAL_LAB_TRIALS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// leader waits for the cluster's leader.
func (e *env) leader() *lab.Host {
	e.t.Helper()
	var h *lab.Host
	testkit.WaitEvery(e.t, lab.Poll, 60*time.Second, "a leader", func() (bool, string) {
		var note string
		h, note = e.lab.Leader()
		return h != nil, note
	})
	return h
}

// create creates servers named prefix-1..n through via, forced onto host
// when it is not nil, and returns them as acknowledged.
func (e *env) create(via *lab.Host, prefix string, n int, host *lab.Host) []lab.Server {
	e.t.Helper()
	var out []lab.Server
	for k := 1; k <= n; k++ {
		req := lab.CreateRequest{Name: fmt.Sprintf("%s-%d", prefix, k), Flavor: flavor, Image: image}
		if host != nil {
			req.AvailabilityZone = "nova:" + host.Name
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := via.API.WithTimeout(30*time.Second).CreateServer(ctx, req)
		cancel()
		if err != nil {
			e.t.Fatalf("creating %s through %s: %v", req.Name, via.Name, err)
		}
		out = append(out, s)
	}
	return out
}

func ids(list []lab.Server) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.ID
	}
	return out
}

// placed reports whether every server in ids is ACTIVE in the API on a host
// other than avoid (any host when avoid is ""), and whether the checker's
// fresh round shows its domain on that host and nowhere else. It returns
// the servers as listed.
func (e *env) placed(ids []string, avoid string) (map[string]lab.Server, bool, string) {
	list, err := e.lab.Servers(context.Background())
	if err != nil {
		return nil, false, err.Error()
	}
	e.chk.Learn(list)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	round, err := e.chk.Fresh(ctx)
	if err != nil {
		return nil, false, err.Error()
	}
	byID := map[string]lab.Server{}
	for _, s := range list {
		byID[s.ID] = s
	}
	for _, id := range ids {
		s, ok := byID[id]
		switch {
		case !ok:
			return nil, false, id + " not listed"
		case s.Status != "ACTIVE" || s.Host == "" || s.Host == avoid:
			return nil, false, fmt.Sprintf("%s %s on %q (task %q)", id, s.Status, s.Host, s.TaskState)
		}
		if on := round.HostsOf(id); !slices.Equal(on, []string{s.Host}) {
			return nil, false, fmt.Sprintf("%s: the API says %s, libvirt runs it on %v", id, s.Host, on)
		}
	}
	return byID, true, ""
}

// waitPlaced waits until placed holds and returns the servers.
func (e *env) waitPlaced(timeout time.Duration, what string, ids []string, avoid string) map[string]lab.Server {
	e.t.Helper()
	var got map[string]lab.Server
	testkit.WaitEvery(e.t, lab.Poll, timeout, what, func() (bool, string) {
		var ok bool
		var note string
		got, ok, note = e.placed(ids, avoid)
		return ok, note
	})
	return got
}

// waitUndefined waits until host's libvirtd has no domain, running or
// not, of the servers in ids.
func (e *env) waitUndefined(host *lab.Host, ids []string) {
	e.t.Helper()
	testkit.WaitEvery(e.t, lab.Poll, settleTimeout, host.Name+" to remove the domains of servers that moved", func() (bool, string) {
		left := e.leftOn(host, ids)
		return left == "", left
	})
}

// leftOn names the first server of ids that host's libvirtd still has a
// domain for, or why it could not tell; "" when it has none.
func (e *env) leftOn(host *lab.Host, ids []string) string {
	defined, err := e.chk.Defined(host)
	if err != nil {
		return err.Error()
	}
	for _, id := range ids {
		if slices.Contains(defined, id) {
			return id + " still defined on " + host.Name
		}
	}
	return ""
}

// remove deletes the servers and waits until the API lists none of them
// and no libvirtd has a domain for any.
func (e *env) remove(ids []string) {
	e.t.Helper()
	for _, id := range ids {
		testkit.WaitEvery(e.t, lab.Poll, 30*time.Second, "DELETE "+id+" accepted", func() (bool, string) {
			var errs []string
			for _, h := range e.lab.Up() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := h.API.DeleteServer(ctx, id)
				cancel()
				if err == nil || lab.HTTPCode(err) == 404 {
					return true, ""
				}
				errs = append(errs, h.Name+": "+err.Error())
			}
			return false, strings.Join(errs, "; ")
		})
	}
	testkit.WaitEvery(e.t, lab.Poll, settleTimeout, "deleted servers gone from the API and libvirt", func() (bool, string) {
		list, err := e.lab.Servers(context.Background())
		if err != nil {
			return false, err.Error()
		}
		for _, s := range list {
			if slices.Contains(ids, s.ID) {
				return false, fmt.Sprintf("%s still listed (%s)", s.ID, s.Status)
			}
		}
		for _, h := range e.lab.Up() {
			if left := e.leftOn(h, ids); left != "" {
				return false, left
			}
		}
		return true, ""
	})
}

// noViolations stops the test at the first trial with a breach.
func (e *env) noViolations(trial int) {
	e.t.Helper()
	if vs := e.chk.Violations(); len(vs) > 0 {
		e.t.Fatalf("trial %d: checker violations so far: %v", trial, vs)
	}
}

// hasAction reports whether the server's action log has action.
func (e *env) hasAction(via *lab.Host, id, action string) (bool, []lab.Action) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acts, err := via.API.Actions(ctx, id)
	if err != nil {
		e.t.Logf("actions of %s: %v", id, err)
		return false, nil
	}
	return slices.ContainsFunc(acts, func(a lab.Action) bool { return a.Action == action }), acts
}

// pick returns the trial's target among hosts: the leader on every third
// trial, else a follower, rotating; only hosts for which ok holds.
func pick(trial int, hosts []*lab.Host, leader *lab.Host, ok func(*lab.Host) bool) *lab.Host {
	wantLeader := trial%3 == 2
	var fit, any []*lab.Host
	for _, h := range hosts {
		if !ok(h) {
			continue
		}
		any = append(any, h)
		if (h == leader) == wantLeader {
			fit = append(fit, h)
		}
	}
	if len(fit) == 0 {
		fit = any
	}
	if len(fit) == 0 {
		return nil
	}
	return fit[trial%len(fit)]
}
