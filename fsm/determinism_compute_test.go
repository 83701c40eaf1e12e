package fsm_test

import (
	"fmt"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// The generator's compute commands: image data, quotas, server creates and
// actions, scheduler plans and host reports, each aimed at what the model
// holds often enough that many succeed.

// imageData records or removes a node's copy of an image's data; a good
// share conflicts with the data the image already has.
func (g *logGen) imageData(at time.Time) fsm.Command {
	id := g.pick("img", 4)
	if imgs := g.model.Images(); len(imgs) > 0 && !g.chance(4) {
		id = imgs[g.rng.IntN(len(imgs))].ID
	}
	node := g.pick("h", 8)
	if g.chance(3) {
		return &fsm.RemoveImageLocation{ID: id, Node: node, Time: at}
	}
	c := &fsm.ImageUploaded{ID: id, Node: node, Size: 1 << 20, Checksum: sumA, Time: at}
	if g.os.IntN(2) == 0 {
		c.MD5 = []string{md5A, md5A, md5B}[g.os.IntN(3)]
	}
	switch g.rng.IntN(8) {
	case 0:
		c.Checksum = sumB // other data: taken by a queued image, refused by one with data
	case 1:
		c.Checksum = "abc" // invalid
	case 2:
		c.Size = 2 << 20
	case 3:
		c.DiskFormat = "raw" // the generated images are qcow2
	}
	return c
}

// setQuota sets a few limits of one project, small enough that quotas bite
// now and then; -2 and a missing project are invalid.
func (g *logGen) setQuota() fsm.Command {
	c := &fsm.SetQuota{ProjectID: fmt.Sprintf("p%d", g.owner.IntN(3))}
	if g.owner.IntN(15) == 0 {
		c.ProjectID = ""
	}
	for _, limit := range []**int{&c.Quota.Instances, &c.Quota.Cores, &c.Quota.RAM,
		&c.Quota.ServerGroups, &c.Quota.ServerGroupMembers, &c.Quota.KeyPairs} {
		if g.owner.IntN(2) == 0 {
			n := g.owner.IntN(8) - 2
			switch {
			case limit == &c.Quota.RAM && n > 0:
				n *= 4096 // MiB
			case n > 0:
				n *= 3
			}
			*limit = &n
		}
	}
	return c
}

func (g *logGen) createInstances(index uint64, at time.Time) fsm.Command {
	c := &fsm.CreateInstances{RequestID: fmt.Sprintf("req-%d", index), Time: at, Admin: g.os.IntN(4) == 0}
	c.ProjectID, c.UserID = g.owned(2)
	images := g.model.Images()
	for range 1 + g.rng.IntN(3) {
		id := g.pick("i", 40)
		n := fsm.NewInstance{ID: id, Name: "vm-" + id, FlavorID: fmt.Sprint(1 + g.rng.IntN(5)), ImageID: g.pick("img", 4)}
		if len(images) > 0 && !g.chance(4) {
			n.ImageID = images[g.rng.IntN(len(images))].ID
		}
		if g.chance(4) {
			n.FlavorID = g.pick("f", 10)
		}
		if g.chance(3) {
			n.ServerGroupID = g.pick("g", 4)
		}
		if g.chance(3) {
			n.Metadata = map[string]string{"k": g.pick("v", 3)}
		}
		if g.chance(20) {
			n.Name = ""
		}
		n.SecurityGroups = g.serverGroups(c.ProjectID)
		g.bootData(&n)
		if g.os.IntN(5) == 0 {
			n.Description, n.AccessIPv4 = "web", []string{"192.0.2.1", "", "bad"}[g.os.IntN(3)]
		}
		c.Instances = append(c.Instances, n)
	}
	return c
}

// someInstance is a server of the model, or now and then an unknown one.
func (g *logGen) someInstance() (fsm.Instance, bool) {
	insts := g.model.Instances(nil)
	if len(insts) == 0 || g.chance(10) {
		return fsm.Instance{ID: g.pick("i", 40)}, false
	}
	return insts[g.rng.IntN(len(insts))], true
}

// fitting lists the actions Nova allows from each vm_state when idle.
var fitting = map[string][]string{
	fsm.VMActive:    {fsm.ActionStop, fsm.ActionReboot, fsm.ActionReboot, fsm.ActionPause, fsm.ActionSuspend},
	fsm.VMStopped:   {fsm.ActionStart, fsm.ActionReboot},
	fsm.VMPaused:    {fsm.ActionUnpause, fsm.ActionStop},
	fsm.VMSuspended: {fsm.ActionResume, fsm.ActionStop},
	fsm.VMError:     {fsm.ActionDelete, fsm.ActionStop, fsm.ActionResetState},
}

func (g *logGen) instanceAction(index uint64, at time.Time) fsm.Command {
	inst, _ := g.someInstance()
	var idle []fsm.Instance // on a host, no task, not in error
	for _, i := range g.model.Instances(nil) {
		if i.Host != "" && i.TaskState == fsm.TaskNone && i.VMState != fsm.VMError {
			idle = append(idle, i)
		}
	}
	if len(idle) > 0 && !g.chance(3) {
		inst = idle[g.rng.IntN(len(idle))]
	}
	c := &fsm.InstanceAction{ID: inst.ID, RequestID: fmt.Sprintf("req-%d", index), Time: at}
	actions := []string{fsm.ActionStart, fsm.ActionStop, fsm.ActionReboot, fsm.ActionPause, fsm.ActionUnpause,
		fsm.ActionSuspend, fsm.ActionResume, fsm.ActionDelete, fsm.ActionDelete, fsm.ActionResetState, "rebuild"}
	if fit := fitting[inst.VMState]; len(fit) > 0 && inst.TaskState == fsm.TaskNone && !g.chance(3) {
		actions = fit
	}
	c.Action = actions[g.rng.IntN(len(actions))]
	c.Hard = g.chance(3)
	if g.actor.IntN(2) == 0 { // who asked: the action log records it
		c.ProjectID, c.UserID = fmt.Sprintf("p%d", g.actor.IntN(3)), fmt.Sprintf("u%d", g.actor.IntN(2))
	}
	c.Admin = g.os.IntN(3) == 0 // may act on a locked server
	if c.Action == fsm.ActionResetState {
		c.State = []string{"active", "error", "error", "stopped"}[g.rng.IntN(4)]
	}
	return c
}

// host is, most of the time, a registered and enabled host of the model.
func (g *logGen) host() string {
	var ok []string
	for _, h := range g.model.Hosts() {
		if h.Enabled {
			ok = append(ok, h.Name)
		}
	}
	if len(ok) == 0 || g.chance(5) {
		return g.pick("h", 8)
	}
	return ok[g.rng.IntN(len(ok))]
}

func (g *logGen) plan(index uint64, at time.Time) fsm.Command {
	p := &fsm.Plan{Time: at, RequestID: fmt.Sprintf("plan-%d", index), Ratios: fsm.DefaultRatios, MaxAttempts: 3}
	if g.chance(5) {
		p.Ratios = fsm.Ratios{CPU: 1, RAM: 1, Disk: 1}
	}
	if g.chance(25) {
		p.Ratios.RAM = 0 // invalid
	}
	p.MaxAttempts = 1 + g.rng.IntN(4)
	for _, i := range g.model.SchedulingView(0).Pending {
		switch r := g.rng.IntN(10); {
		case r < 7:
			p.Placements = append(p.Placements, fsm.Placement{InstanceID: i.ID, Host: g.host()})
		case r < 8:
			p.Failures = append(p.Failures, fsm.PlanFailure{InstanceID: i.ID, Reason: fsm.NoValidHost})
		}
	}
	if g.chance(4) { // stale: a server that may have been placed already
		if i, ok := g.someInstance(); ok {
			p.Placements = append(p.Placements, fsm.Placement{InstanceID: i.ID, Host: g.pick("h", 8)})
		}
	}
	return p
}

func (g *logGen) report(at time.Time) fsm.Command {
	var host string
	var busy []fsm.Instance
	for _, i := range g.model.Instances(nil) {
		if i.Host != "" && i.TaskState != fsm.TaskNone {
			busy = append(busy, i)
		}
	}
	switch {
	case len(busy) > 0 && !g.chance(4):
		host = busy[g.rng.IntN(len(busy))].Host
	default:
		host = g.pick("h", 8)
	}
	c := &fsm.ReportInstances{Host: host, Time: at}
	if g.chance(15) {
		c.Host = "" // invalid
	}
	for _, i := range g.model.InstancesOnHost(host) {
		r := fsm.InstanceReport{ID: i.ID, PowerState: fsm.PowerRunning, TaskIndex: i.TaskIndex}
		if g.chance(5) {
			r.TaskIndex++ // a late report of an older task
		}
		switch k := g.rng.IntN(20); {
		case k < 14:
			r.Done = i.TaskState
		case k < 15:
			r.Done, r.Error = i.TaskState, "boom"
		case k < 16:
			r.Done = fsm.TaskPausing // mostly stale
		case k < 18:
			r.PowerState = []fsm.PowerState{0, 3, 4, 6, 7}[g.rng.IntN(5)]
		}
		if r.Done != "" {
			r.PowerState = powerAfter[r.Done]
		}
		c.Reports = append(c.Reports, r)
	}
	return c
}
