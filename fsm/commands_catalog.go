package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// UpdateHostInventory copies what a host offers (from gossip) into its record.
type UpdateHostInventory struct {
	Name              string    `json:"name"`
	VCPUs             int       `json:"vcpus"`
	MemoryMiB         int       `json:"memory_mib"`
	DiskGiB           int       `json:"disk_gib"`
	Arch              string    `json:"arch"`
	HypervisorType    string    `json:"hypervisor_type"`
	HypervisorVersion string    `json:"hypervisor_version"`
	Zone              string    `json:"zone"`
	Time              time.Time `json:"time"`
}

// CreateImage registers image metadata; the proposing node stamps ID and times.
type CreateImage struct {
	Image Image `json:"image"`
}

// DeleteImage removes an image record; refused while servers use it.
type DeleteImage struct {
	ID string `json:"id"`
}

// CreateServerGroup adds a server group.
type CreateServerGroup struct {
	Group ServerGroup `json:"group"`
}

// DeleteServerGroup removes a server group; its servers stay, ungrouped.
type DeleteServerGroup struct {
	ID string `json:"id"`
}

func (*UpdateHostInventory) Type() Type { return TypeUpdateHostInventory }
func (*CreateImage) Type() Type         { return TypeCreateImage }
func (*DeleteImage) Type() Type         { return TypeDeleteImage }
func (*CreateServerGroup) Type() Type   { return TypeCreateServerGroup }
func (*DeleteServerGroup) Type() Type   { return TypeDeleteServerGroup }

func applyUpdateHostInventory(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateHostInventory)
	h, ok := s.Hosts[cmd.Name]
	if !ok {
		return fmt.Errorf("%w: host %q", ErrNotFound, cmd.Name)
	}
	if cmd.VCPUs < 0 || cmd.MemoryMiB < 0 || cmd.DiskGiB < 0 {
		return fmt.Errorf("%w: host capacity must not be negative", ErrInvalid)
	}
	h.VCPUs, h.MemoryMiB, h.DiskGiB = cmd.VCPUs, cmd.MemoryMiB, cmd.DiskGiB
	h.Arch, h.HypervisorType, h.HypervisorVersion, h.Zone = cmd.Arch, cmd.HypervisorType, cmd.HypervisorVersion, cmd.Zone
	h.Updated = cmd.Time
	h.ModifyIndex = index
	s.hostsGen++
	return nil
}

func applyCreateImage(s *State, index uint64, c Command) error {
	img := c.(*CreateImage).Image
	switch {
	case img.ID == "" || img.Name == "":
		return fmt.Errorf("%w: an image needs an ID and a name", ErrInvalid)
	case img.Size < 0 || img.MinRAM < 0 || img.MinDisk < 0:
		return fmt.Errorf("%w: image sizes must not be negative", ErrInvalid)
	case img.Status != "queued" && img.Status != "active":
		return fmt.Errorf("%w: image status must be queued or active", ErrInvalid)
	}
	if _, ok := s.Images[img.ID]; ok {
		return fmt.Errorf("%w: image ID %q already exists", ErrConflict, img.ID)
	}
	img.Properties = maps.Clone(img.Properties)
	img.CreateIndex, img.ModifyIndex = index, index
	s.Images[img.ID] = &img
	return nil
}

func applyDeleteImage(s *State, _ uint64, c Command) error {
	id := c.(*DeleteImage).ID
	if _, ok := s.Images[id]; !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, id)
	}
	users := 0
	for _, i := range s.Instances {
		if i.ImageID == id {
			users++
		}
	}
	if users > 0 {
		return fmt.Errorf("%w: image %s is in use by %d server(s); delete them first", ErrConflict, id, users)
	}
	delete(s.Images, id)
	return nil
}

func applyCreateServerGroup(s *State, index uint64, c Command) error {
	g := c.(*CreateServerGroup).Group
	switch {
	case g.ID == "" || g.Name == "":
		return fmt.Errorf("%w: a server group needs an ID and a name", ErrInvalid)
	case !ValidPolicy(g.Policy):
		return fmt.Errorf("%w: policy %q: use affinity, anti-affinity, soft-affinity or soft-anti-affinity", ErrInvalid, g.Policy)
	}
	if _, ok := s.Groups[g.ID]; ok {
		return fmt.Errorf("%w: server group ID %q already exists", ErrConflict, g.ID)
	}
	g.Members = []string{}
	g.CreateIndex, g.ModifyIndex = index, index
	s.Groups[g.ID] = &g
	return nil
}

func applyDeleteServerGroup(s *State, _ uint64, c Command) error {
	id := c.(*DeleteServerGroup).ID
	g, ok := s.Groups[id]
	if !ok {
		return fmt.Errorf("%w: server group %q", ErrNotFound, id)
	}
	for _, m := range g.Members {
		if i, ok := s.Instances[m]; ok {
			i.ServerGroupID = ""
		}
	}
	delete(s.Groups, id)
	return nil
}

// removeMember drops an instance from its group's member list.
func (s *State) removeMember(i *Instance) {
	if g, ok := s.Groups[i.ServerGroupID]; ok {
		g.Members = slices.DeleteFunc(g.Members, func(m string) bool { return m == i.ID })
	}
}
