package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// ActionRebuild names a rebuild in the action log (Nova's).
const ActionRebuild = "rebuild"

// RebuildInstance rebuilds a server on its host from an image (Nova's
// rebuild action): same ID, flavor, addresses and host, a fresh disk. Name
// renames it; with ReplaceMetadata, Metadata becomes its metadata (Nova's
// rebuild takes a whole map). UserID and ProjectID are who asks (the
// action log records them); Admin says that caller is an admin, who may
// rebuild a locked server.
type RebuildInstance struct {
	ID              string            `json:"id"`
	ImageID         string            `json:"image_id"`
	Name            *string           `json:"name,omitempty"`
	ReplaceMetadata bool              `json:"replace_metadata,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	// Description (Nova 2.19), KeyName with its KeyData (2.54; "" drops
	// the key) and UserData (2.57; "" drops it): nil keeps what it was.
	Description *string   `json:"description,omitempty"`
	KeyName     *string   `json:"key_name,omitempty"`
	KeyData     string    `json:"key_data,omitempty"`
	UserData    *string   `json:"user_data,omitempty"`
	RequestID   string    `json:"request_id"`
	UserID      string    `json:"user_id,omitempty"`
	ProjectID   string    `json:"project_id,omitempty"`
	Admin       bool      `json:"admin,omitempty"`
	Time        time.Time `json:"time"`
}

func (*RebuildInstance) Type() Type { return TypeRebuildInstance }

// rebuildStates are the vm_states Nova rebuilds from (with no task running).
var rebuildStates = []string{VMActive, VMStopped, VMError}

// CheckRebuild refuses a rebuild of a server that is not ACTIVE, SHUTOFF or
// ERROR on a host with no task running (Nova's 409): Apply's rule, for the
// API to check before proposing.
func (i *Instance) CheckRebuild() error {
	if i.TaskState != TaskNone || i.Host == "" || !slices.Contains(rebuildStates, i.VMState) {
		return fmt.Errorf("%w: Cannot 'rebuild' instance %s while it is in vm_state %s", ErrConflict, i.ID, i.VMState)
	}
	return nil
}

// applyRebuildInstance puts the server in task_state rebuilding on its
// host, whose reconciler replaces the domain and its disk with ones built
// from the new image, then reports the task done: a stopped server stays
// stopped, an active one runs, one in error comes back active (as Nova's).
func applyRebuildInstance(s *State, index uint64, c Command) error {
	cmd := c.(*RebuildInstance)
	if cmd.Name != nil {
		if err := validName("server name", *cmd.Name); err != nil {
			return err
		}
	}
	if !cmd.ReplaceMetadata && len(cmd.Metadata) > 0 {
		return fmt.Errorf("%w: metadata goes with replace_metadata", ErrInvalid)
	}
	if err := ValidMetadata("metadata", cmd.Metadata); err != nil {
		return err
	}
	if err := cmd.validBootData(); err != nil {
		return err
	}
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	if err := inst.CheckLock(cmd.Admin); err != nil {
		return err
	}
	if err := inst.CheckRebuild(); err != nil {
		return err
	}
	img, ok := s.Images[cmd.ImageID]
	if !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, cmd.ImageID)
	}
	if img.Status != ImageActive {
		return fmt.Errorf("%w: image %s is %s, not active", ErrConflict, img.ID, img.Status)
	}
	if cmd.ReplaceMetadata {
		if err := s.checkMetadataQuota(inst.ProjectID, len(cmd.Metadata)); err != nil {
			return err
		}
	}
	s.untrack(inst)
	inst.ImageID = img.ID
	if cmd.Name != nil {
		inst.Name = *cmd.Name
	}
	if cmd.ReplaceMetadata {
		inst.Metadata = maps.Clone(cmd.Metadata)
		if len(inst.Metadata) == 0 {
			inst.Metadata = nil
		}
	}
	if cmd.Description != nil {
		inst.Description = *cmd.Description
	}
	if cmd.KeyName != nil {
		inst.KeyName, inst.KeyData = *cmd.KeyName, cmd.KeyData
	}
	if cmd.UserData != nil {
		inst.UserData = *cmd.UserData
	}
	if inst.VMState == VMError {
		inst.VMState = VMActive
	}
	inst.TaskState, inst.TaskIndex = TaskRebuilding, index
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	inst.startAction(cmd.RequestID, ActionRebuild, Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}, cmd.Time)
	s.track(inst)
	return nil
}

// validBootData checks the description, key and user data a rebuild gives,
// with create's rules.
func (c *RebuildInstance) validBootData() error {
	if c.Description != nil {
		if err := validText("server description", *c.Description, MaxServerDescription); err != nil {
			return err
		}
	}
	switch {
	case c.KeyName == nil && c.KeyData != "":
		return fmt.Errorf("%w: key data goes with a key name", ErrInvalid)
	case c.KeyName != nil:
		if err := validBootData(NewInstance{ID: c.ID, KeyName: *c.KeyName, KeyData: c.KeyData}); err != nil {
			return err
		}
	}
	if c.UserData != nil {
		return ValidUserData(*c.UserData)
	}
	return nil
}
