package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Changes to a server that are not lifecycle actions: Nova's PUT
// /servers/{id}, its server metadata API and lock/unlock.

// Who locked a server (Nova's locked_by): its own project, or an admin of
// another. An owner's lock may be lifted by the owner; an admin's only by
// an admin.
const (
	LockedByOwner = "owner"
	LockedByAdmin = "admin"
)

// Action log names of lock and unlock (Nova's instance actions).
const (
	ActionLock   = "lock"
	ActionUnlock = "unlock"
)

// UpdateInstance changes a server's name, description or access addresses
// (Nova's PUT /servers/{id}); a nil field is left as it is, "" clears the
// description or an address. Nova does not check the lock here, and
// neither does this.
type UpdateInstance struct {
	ID          string    `json:"id"`
	Name        *string   `json:"name,omitempty"`
	Description *string   `json:"description,omitempty"`
	AccessIPv4  *string   `json:"access_ip_v4,omitempty"`
	AccessIPv6  *string   `json:"access_ip_v6,omitempty"`
	Hostname    *string   `json:"hostname,omitempty"` // 2.90
	Time        time.Time `json:"time"`
}

// UpdateInstanceMetadata changes a server's metadata (Nova's server
// metadata API): Set is merged into it (POST, PUT of one key), or becomes
// all of it when Replace (PUT of the whole map); then each key of Delete,
// which must be there, goes (DELETE of one key). The result must fit the
// project's metadata_items quota. Admin says the caller is an admin, who
// may change a locked server.
type UpdateInstanceMetadata struct {
	ID      string            `json:"id"`
	Set     map[string]string `json:"set,omitempty"`
	Replace bool              `json:"replace,omitempty"`
	Delete  []string          `json:"delete,omitempty"`
	Admin   bool              `json:"admin,omitempty"`
	Time    time.Time         `json:"time"`
}

// LockInstance locks a server (Nova's lock action, with the 2.73 reason)
// or, with Unlock, unlocks it. UserID and ProjectID are who asks (the
// action log records them, and whether they own the server decides
// LockedBy); Admin says that caller is an admin.
type LockInstance struct {
	ID        string    `json:"id"`
	Unlock    bool      `json:"unlock,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"request_id"`
	UserID    string    `json:"user_id,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	Admin     bool      `json:"admin,omitempty"`
	Time      time.Time `json:"time"`
}

func (*UpdateInstance) Type() Type         { return TypeUpdateInstance }
func (*UpdateInstanceMetadata) Type() Type { return TypeUpdateInstanceMetadata }
func (*LockInstance) Type() Type           { return TypeLockInstance }

// CheckLock refuses a change to a locked server unless an admin asks for
// it (Nova's check_instance_lock): ErrConflict with Nova's message. Every
// action, delete and metadata change goes through it, in Apply; the API
// may call it first to keep a refused request out of the log.
func (i *Instance) CheckLock(admin bool) error {
	if i.Locked && !admin {
		return fmt.Errorf("%w: Instance %s is locked", ErrConflict, i.ID)
	}
	return nil
}

// MayUnlock reports whether a caller of project projectID, an admin or
// not, may unlock the server: an owner's lock by its project or an admin,
// an admin's lock by an admin only (Nova's unlock_override policy).
func (i *Instance) MayUnlock(projectID string, admin bool) bool {
	return admin || !i.Locked || i.LockedBy == lockerOf(i, projectID)
}

// lockerOf is what LockedBy would say if a caller of projectID locked i.
func lockerOf(i *Instance, projectID string) string {
	if projectID == i.ProjectID {
		return LockedByOwner
	}
	return LockedByAdmin
}

// Validate checks the values the command gives (Apply's rules, for the
// API to check before proposing): a name of 1 to 255 characters, a
// description of at most 255, canonical access addresses of their family.
func (c *UpdateInstance) Validate() error {
	if c.Name != nil {
		if err := validName("server name", *c.Name); err != nil {
			return err
		}
	}
	if c.Description != nil {
		if err := validText("server description", *c.Description, MaxServerDescription); err != nil {
			return err
		}
	}
	if c.AccessIPv4 != nil {
		if err := validAccessIP(4, *c.AccessIPv4); err != nil {
			return err
		}
	}
	if c.AccessIPv6 != nil {
		if err := validAccessIP(6, *c.AccessIPv6); err != nil {
			return err
		}
	}
	if c.Hostname != nil {
		return ValidHostname(*c.Hostname)
	}
	return nil
}

func applyUpdateInstance(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateInstance)
	if err := cmd.Validate(); err != nil {
		return err
	}
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	changed := false
	for _, f := range []struct {
		field *string
		to    *string
	}{{&inst.Name, cmd.Name}, {&inst.Description, cmd.Description}, {&inst.AccessIPv4, cmd.AccessIPv4}, {&inst.AccessIPv6, cmd.AccessIPv6}, {&inst.Hostname, cmd.Hostname}} {
		if f.to != nil && *f.to != *f.field {
			*f.field, changed = *f.to, true
		}
	}
	if changed {
		inst.Updated, inst.ModifyIndex = cmd.Time, index
	}
	return nil
}

// validServerText checks what a new server carries as free text: its
// metadata (shape only; metadata_items is a quota), description and access
// addresses, by the rules UpdateInstance and UpdateInstanceMetadata apply.
func validServerText(n NewInstance) error {
	if err := ValidMetadata("metadata", n.Metadata); err != nil {
		return err
	}
	if err := validText("server description", n.Description, MaxServerDescription); err != nil {
		return err
	}
	if err := validAccessIP(4, n.AccessIPv4); err != nil {
		return err
	}
	if n.Hostname != "" {
		if err := ValidHostname(n.Hostname); err != nil {
			return err
		}
	}
	return validAccessIP(6, n.AccessIPv6)
}

// CheckMetadataState refuses a metadata change of a server that is not
// ACTIVE, SHUTOFF, PAUSED or SUSPENDED with no task running (Nova's 409):
// Apply's rule, for the API to check before proposing.
func (i *Instance) CheckMetadataState() error {
	if i.TaskState != TaskNone || !slices.Contains(metadataStates, i.VMState) {
		return fmt.Errorf("%w: Cannot 'update metadata' instance %s while it is in vm_state %s", ErrConflict, i.ID, i.VMState)
	}
	return nil
}

// metadataStates are the vm_states Nova changes metadata in (with no task
// running): not while building, in error or being deleted.
var metadataStates = []string{VMActive, VMPaused, VMSuspended, VMStopped}

func applyUpdateInstanceMetadata(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateInstanceMetadata)
	if len(cmd.Set) == 0 && len(cmd.Delete) == 0 && !cmd.Replace {
		return fmt.Errorf("%w: no metadata to change on server %q", ErrInvalid, cmd.ID)
	}
	if err := ValidMetadata("metadata", cmd.Set); err != nil {
		return err
	}
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	md := maps.Clone(inst.Metadata)
	if cmd.Replace || md == nil {
		md = map[string]string{}
	}
	maps.Copy(md, cmd.Set)
	for _, k := range cmd.Delete {
		if _, ok := md[k]; !ok {
			return fmt.Errorf("%w: Metadata item was not found", ErrNotFound)
		}
		delete(md, k)
	}
	if err := inst.CheckLock(cmd.Admin); err != nil {
		return err
	}
	if err := inst.CheckMetadataState(); err != nil {
		return err
	}
	if err := s.checkMetadataQuota(inst.ProjectID, len(md)); err != nil {
		return err
	}
	if len(md) == 0 {
		md = nil // as a server that never had any
	}
	inst.Metadata = md
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	return nil
}

func applyLockInstance(s *State, index uint64, c Command) error {
	cmd := c.(*LockInstance)
	if cmd.Unlock && cmd.Reason != "" {
		return fmt.Errorf("%w: a reason goes only with lock", ErrInvalid)
	}
	if err := validText("locked reason", cmd.Reason, MaxLockReason); err != nil {
		return err
	}
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	by := lockerOf(inst, cmd.ProjectID)
	if by == LockedByAdmin && !cmd.Admin {
		return fmt.Errorf("%w: only the server's project or an admin may lock or unlock it", ErrForbidden)
	}
	actor := Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}
	if cmd.Unlock {
		if !inst.MayUnlock(cmd.ProjectID, cmd.Admin) {
			return fmt.Errorf("%w: server %s was locked by an admin; only an admin may unlock it", ErrForbidden, inst.ID)
		}
		inst.Locked, inst.LockedBy, inst.LockedReason = false, "", ""
		inst.startAction(cmd.RequestID, ActionUnlock, actor, cmd.Time)
	} else {
		if inst.Locked && by == LockedByOwner {
			return nil // Nova: the owner locking a locked server changes nothing
		}
		inst.Locked, inst.LockedBy = true, by
		if cmd.Reason != "" {
			inst.LockedReason = cmd.Reason
		}
		inst.startAction(cmd.RequestID, ActionLock, actor, cmd.Time)
	}
	inst.finishAction("success", "", cmd.Time)
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	return nil
}
