package fsm_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// openStack is one command of the updates the OpenStack APIs need (server
// update, metadata and lock, flavor extras and access, rebuild, security
// group updates, image updates), drawn from g.os alone so that the other entries of a seed's log stay what
// they were. Half the references are to objects the model holds; a good
// share of the values are invalid or conflict by construction.
func (g *logGen) openStack(at time.Time) fsm.Command {
	r := g.os
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(n)) }
	instance := func() fsm.Instance {
		if insts := g.model.Instances(nil); len(insts) > 0 && r.IntN(6) != 0 {
			return insts[r.IntN(len(insts))]
		}
		return fsm.Instance{ID: pick("i", 40)}
	}
	flavor := func() fsm.Flavor {
		if fl := g.model.Flavors(); len(fl) > 0 && r.IntN(6) != 0 {
			return fl[r.IntN(len(fl))]
		}
		return fsm.Flavor{ID: pick("f", 10)}
	}
	project := func(owner string) string {
		if r.IntN(2) == 0 {
			return owner
		}
		return pick("p", 3)
	}
	switch n := r.IntN(100); {
	case n < 10:
		c := &fsm.UpdateInstance{ID: instance().ID, Time: at}
		if r.IntN(2) == 0 {
			c.Name = ptr([]string{"renamed", "", "vm-x"}[r.IntN(3)])
		}
		if r.IntN(2) == 0 {
			c.Description = ptr([]string{"web", "", "bad\x01"}[r.IntN(3)])
		}
		if r.IntN(3) == 0 {
			c.AccessIPv4 = ptr([]string{"192.0.2.1", "", "2001:db8::1"}[r.IntN(3)])
		}
		if r.IntN(4) == 0 {
			c.AccessIPv6 = ptr([]string{"2001:db8::1", "192.0.2.1"}[r.IntN(2)])
		}
		return c
	case n < 30:
		c := &fsm.UpdateInstanceMetadata{ID: instance().ID, Admin: r.IntN(4) == 0, Replace: r.IntN(4) == 0, Time: at}
		if idle := g.idle(); len(idle) > 0 && r.IntN(3) != 0 {
			c.ID = idle[r.IntN(len(idle))].ID
		}
		if r.IntN(3) != 0 {
			c.Set = map[string]string{pick("k", 4): pick("v", 3)}
			if r.IntN(6) == 0 {
				c.Set[""] = "bad"
			}
		}
		if r.IntN(3) == 0 {
			c.Delete = []string{pick("k", 4)}
		}
		return c
	case n < 38:
		inst := instance()
		c := &fsm.LockInstance{ID: inst.ID, Unlock: r.IntN(3) != 0, RequestID: "req-lock", ProjectID: project(inst.ProjectID),
			Admin: r.IntN(3) == 0, Time: at}
		c.UserID = "u-" + c.ProjectID
		if r.IntN(3) == 0 {
			c.Reason = "maintenance"
		}
		return c
	case n < 50:
		f := fsm.Flavor{ID: pick("fp", 3), Name: pick("private-", 3), VCPUs: 1, RAM: 512, Disk: 1, Private: r.IntN(4) != 0,
			Swap: r.IntN(3) * 512, Ephemeral: r.IntN(3), RxtxFactor: float64(r.IntN(3)) / 2, Created: at}
		if f.Private && r.IntN(2) == 0 {
			f.Access = []string{pick("p", 3)}
		}
		return &fsm.CreateFlavor{Flavor: f}
	case n < 55:
		c := &fsm.UpdateFlavor{ID: flavor().ID}
		if r.IntN(8) != 0 {
			c.Description = ptr([]string{"small", "", "x\x00"}[r.IntN(3)])
		}
		return c
	case n < 62:
		c := &fsm.SetFlavorExtraSpecs{ID: flavor().ID, Specs: map[string]string{pick("hw:", 3): pick("v", 2)}}
		if r.IntN(8) == 0 {
			c.Specs = nil
		}
		return c
	case n < 66:
		c := &fsm.DeleteFlavorExtraSpec{ID: flavor().ID, Key: pick("hw:", 3)}
		for _, f := range g.model.Flavors() {
			if len(f.ExtraSpecs) > 0 && r.IntN(2) == 0 {
				c.ID = f.ID
				break
			}
		}
		return c
	case n < 74:
		c := &fsm.AddFlavorAccess{ID: flavor().ID, ProjectID: pick("p", 3)}
		if private := g.privateFlavors(); len(private) > 0 && r.IntN(3) != 0 {
			c.ID = private[r.IntN(len(private))].ID
		}
		return c
	case n < 78:
		c := &fsm.RemoveFlavorAccess{ID: flavor().ID, ProjectID: pick("p", 3)}
		if private := g.privateFlavors(); len(private) > 0 && r.IntN(3) != 0 {
			f := private[r.IntN(len(private))]
			c.ID = f.ID
			if len(f.Access) > 0 {
				c.ProjectID = f.Access[r.IntN(len(f.Access))]
			}
		}
		return c
	case n < 82:
		c := &fsm.RebuildInstance{ID: instance().ID, ImageID: pick("img", 4), RequestID: "req-rebuild", Admin: r.IntN(3) == 0, Time: at}
		if idle := g.idle(); len(idle) > 0 && r.IntN(3) != 0 {
			c.ID = idle[r.IntN(len(idle))].ID
		}
		if imgs := g.model.Images(); len(imgs) > 0 && r.IntN(4) != 0 {
			c.ImageID = imgs[r.IntN(len(imgs))].ID
		}
		if r.IntN(3) == 0 {
			c.ReplaceMetadata, c.Metadata = true, map[string]string{pick("k", 3): "v"}
		}
		return c
	case n < 88:
		// A default group only if stored: one this stored would be
		// another project's group to the generator's server creates and
		// deletes, and starve them (secgroup_update_test.go stores one).
		c := &fsm.UpdateSecurityGroup{ID: pick("sg", 5), Time: at}
		if gs := g.model.AllSecurityGroups(); len(gs) > 0 && r.IntN(4) != 0 {
			sg := gs[r.IntN(len(gs))]
			c.ID, c.ProjectID = sg.ID, sg.ProjectID
		} else if r.IntN(3) == 0 {
			c.ID = fsm.DefaultSecurityGroupID(pick("p", 3))
		}
		if r.IntN(3) == 0 {
			c.Name = ptr([]string{"renamed", "web", "default", ""}[r.IntN(4)])
		}
		if r.IntN(4) != 0 {
			c.Description = ptr([]string{"new", "", "old", strings.Repeat("d", 256)}[r.IntN(4)])
		}
		return c
	default:
		id := pick("img", 4)
		if imgs := g.model.Images(); len(imgs) > 0 && r.IntN(4) != 0 {
			id = imgs[r.IntN(len(imgs))].ID
		}
		c := &fsm.UpdateImage{ID: id, Time: at}
		for range r.IntN(3) {
			c.Changes = append(c.Changes, g.imageChange())
		}
		return c
	}
}

// idle are the model's servers that take metadata changes: on a host, no
// task, not in error.
func (g *logGen) idle() []fsm.Instance {
	var out []fsm.Instance
	for _, i := range g.model.Instances(nil) {
		if i.Host != "" && i.TaskState == fsm.TaskNone && i.VMState != fsm.VMError {
			out = append(out, i)
		}
	}
	return out
}

// privateFlavors are the model's private flavors.
func (g *logGen) privateFlavors() []fsm.Flavor {
	var out []fsm.Flavor
	for _, f := range g.model.Flavors() {
		if f.Private {
			out = append(out, f)
		}
	}
	return out
}

// imageChange is one step of an image update, valid most of the time.
func (g *logGen) imageChange() fsm.ImageChange {
	r := g.os
	ops := []string{fsm.ImageOpAdd, fsm.ImageOpReplace, fsm.ImageOpRemove}
	ch := fsm.ImageChange{Op: ops[r.IntN(3)]}
	switch r.IntN(9) {
	case 0:
		ch.Field, ch.Value = fsm.ImageFieldName, []string{"renamed", ""}[r.IntN(2)]
	case 1:
		ch.Field, ch.Value = fsm.ImageFieldVisibility, []string{fsm.ImagePublic, fsm.ImageCommunity, "bogus"}[r.IntN(3)]
	case 2:
		ch.Field, ch.Number = fsm.ImageFieldMinRAM, r.IntN(3)*256-1
	case 3:
		ch.Field, ch.Flag = fsm.ImageFieldProtected, r.IntN(2) == 0
	case 4:
		ch.Field, ch.Tags = fsm.ImageFieldTags, []string{fmt.Sprint("t", r.IntN(3)), "base"}
	case 5:
		ch.Field, ch.Value = fsm.ImageFieldTag, fmt.Sprint("t", r.IntN(3))
	default:
		ch.Property, ch.Value = []string{"os_distro", "hw:disk_bus", "owner_specified.openstack.md5", "id"}[r.IntN(4)], "v"
	}
	if ch.Op == fsm.ImageOpRemove && ch.Field != fsm.ImageFieldTag && r.IntN(2) == 0 {
		ch.Op = fsm.ImageOpAdd // fields cannot be removed: keep most steps valid
	}
	return ch
}

// tagCommand is a server tag change, on an idle server most of the time,
// with some bad tags and some tags a server lacks, drawn from g.tags alone.
func (g *logGen) tagCommand(at time.Time) fsm.Command {
	r := g.tags
	id := fmt.Sprintf("i%d", r.IntN(40))
	if insts := g.model.Instances(nil); len(insts) > 0 && r.IntN(6) != 0 {
		id = insts[r.IntN(len(insts))].ID
	}
	if idle := g.idle(); len(idle) > 0 && r.IntN(3) != 0 {
		id = idle[r.IntN(len(idle))].ID
	}
	tag := []string{"web", "db", "a,b", ""}[r.IntN(4)]
	switch r.IntN(3) {
	case 0:
		return &fsm.AddInstanceTag{ID: id, Tag: tag, Time: at}
	case 1:
		return &fsm.DeleteInstanceTag{ID: id, Tag: tag, Time: at}
	}
	c := &fsm.SetInstanceTags{ID: id, Time: at}
	for range r.IntN(4) {
		c.Tags = append(c.Tags, []string{"web", "db", "x/y"}[r.IntN(3)])
	}
	return c
}
