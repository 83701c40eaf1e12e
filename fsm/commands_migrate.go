package fsm

import (
	"fmt"
	"slices"
	"time"
)

// MigrateInstance starts moving a server to another host: live (it keeps
// running), cold (stopped, copied, started there) or resize (cold, to a new
// flavor). Host names the destination; empty lets the scheduler choose
// (never the source). A named host is checked here against Ratios, the
// proposer's allocation ratios, as a placement would be. UserID and
// ProjectID are who asks; Admin may move a locked server.
type MigrateInstance struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"` // MigrationLive, MigrationCold or MigrationResize
	Host          string    `json:"host,omitempty"`
	FlavorID      string    `json:"flavor_id,omitempty"` // resize
	Ratios        Ratios    `json:"ratios"`
	MigrationUUID string    `json:"migration_uuid"`
	RequestID     string    `json:"request_id"`
	UserID        string    `json:"user_id,omitempty"`
	ProjectID     string    `json:"project_id,omitempty"`
	Admin         bool      `json:"admin,omitempty"`
	Time          time.Time `json:"time"`
}

// ResizeDecision confirms (Nova's confirmResize: the source's copy goes)
// or reverts (revertResize: back where and as it was) a server in
// VERIFY_RESIZE.
type ResizeDecision struct {
	ID        string    `json:"id"`
	Revert    bool      `json:"revert,omitempty"`
	RequestID string    `json:"request_id"`
	UserID    string    `json:"user_id,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	Admin     bool      `json:"admin,omitempty"`
	Time      time.Time `json:"time"`
}

func (*MigrateInstance) Type() Type { return TypeMigrateInstance }
func (*ResizeDecision) Type() Type  { return TypeResizeDecision }

// Instance action names of moves (Nova's).
const (
	ActionLiveMigration = "live-migration"
	ActionMigrate       = "migrate"
	ActionResize        = "resize"
	ActionConfirmResize = "confirmResize"
	ActionRevertResize  = "revertResize"
)

// move is what one kind of migration needs and starts.
type move struct {
	action  string
	from    []string // vm_states it is allowed from
	verb    string
	pending string // task while the scheduler chooses
	placed  string // task once the destination is known
	queued  string // migration status while the scheduler chooses
	started string // migration status once the destination is known
}

var moves = map[string]move{
	MigrationLive: {ActionLiveMigration, []string{VMActive, VMPaused}, "ACTIVE or PAUSED",
		TaskMigrating, TaskMigrating, MigrationQueued, MigrationPreparing},
	MigrationCold: {ActionMigrate, []string{VMActive, VMStopped}, "ACTIVE or SHUTOFF",
		TaskResizePrep, TaskResizeMigrating, MigrationPreMigrating, MigrationMigrating},
	MigrationResize: {ActionResize, []string{VMActive, VMStopped}, "ACTIVE or SHUTOFF",
		TaskResizePrep, TaskResizeMigrating, MigrationPreMigrating, MigrationMigrating},
}

func applyMigrateInstance(s *State, index uint64, c Command) error {
	cmd := c.(*MigrateInstance)
	mv, ok := moves[cmd.Kind]
	if !ok {
		return fmt.Errorf("%w: unknown kind of migration %q", ErrInvalid, cmd.Kind)
	}
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	if err := inst.CheckLock(cmd.Admin); err != nil {
		return err
	}
	switch {
	case inst.TaskState != TaskNone:
		return fmt.Errorf("%w: Cannot '%s' instance %s while it is in task_state %s", ErrConflict, mv.action, inst.ID, inst.TaskState)
	case !slices.Contains(mv.from, inst.VMState):
		return fmt.Errorf("%w: Cannot '%s' instance %s while it is in vm_state %s (%s needs %s)",
			ErrConflict, mv.action, inst.ID, inst.VMState, mv.action, mv.verb)
	case inst.Host == "":
		return fmt.Errorf("%w: server %s has no host to move from", ErrConflict, inst.ID)
	case s.Hosts[inst.Host].isDown():
		return fmt.Errorf("%w: the host %s of server %s is down: evacuate it instead", ErrConflict, inst.Host, inst.ID)
	}
	flavor, err := s.moveFlavor(inst, cmd)
	if err != nil {
		return err
	}
	if cmd.Host != "" {
		if err := s.checkMoveTarget(inst, cmd.Host, flavor, cmd.Ratios); err != nil {
			return err
		}
	}
	s.untrack(inst)
	task, status := mv.placed, mv.started
	if cmd.Host == "" {
		task, status = mv.pending, mv.queued
	}
	s.newMigration(inst, cmd.Kind, status, cmd.Host, cmd.MigrationUUID, cmd.RequestID,
		Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}, flavor, cmd.Time, index)
	inst.MigrationPending = cmd.Host == ""
	inst.ForceHost = "" // the create's forced host binds no move (Nova resets forced destinations)
	inst.TaskState, inst.TaskIndex, inst.Attempts = task, index, 0
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	inst.startAction(cmd.RequestID, mv.action, Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}, cmd.Time)
	s.track(inst)
	return nil
}

// moveFlavor is the flavor inst will have where it goes: its own, or a
// resize's new one, which must differ and may not shrink the disk.
func (s *State) moveFlavor(inst *Instance, cmd *MigrateInstance) (FlavorSpec, error) {
	if cmd.Kind != MigrationResize {
		return inst.Flavor, nil
	}
	f, ok := s.Flavors[cmd.FlavorID]
	if !ok || !cmd.Admin && inst.ProjectID != "" && !f.VisibleTo(inst.ProjectID) {
		return FlavorSpec{}, fmt.Errorf("%w: Unable to find flavor %q", ErrInvalid, cmd.FlavorID)
	}
	spec := FlavorSpec{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk}
	switch {
	case spec.ID == inst.Flavor.ID:
		return FlavorSpec{}, fmt.Errorf("%w: When resizing, instances must change flavor!", ErrInvalid)
	case spec.Disk < inst.Flavor.Disk:
		return FlavorSpec{}, fmt.Errorf("%w: Resize error: Unable to resize disk down (flavor %s has %d GiB, the server %d GiB).",
			ErrInvalid, spec.Name, spec.Disk, inst.Flavor.Disk)
	}
	if err := s.checkResizeQuota(inst, spec); err != nil {
		return FlavorSpec{}, err
	}
	return spec, nil
}

// checkResizeQuota refuses a resize that would take the server's project
// past its cores or ram (Nova's upsize check): the growth, with the growth
// of the project's other resizes whose server has not taken its new flavor
// yet (the state counts servers by the flavor they have).
func (s *State) checkResizeQuota(inst *Instance, to FlavorSpec) error {
	cores, ram := max(0, to.VCPUs-inst.Flavor.VCPUs), max(0, to.RAM-inst.Flavor.RAM)
	if inst.ProjectID == "" || cores == 0 && ram == 0 {
		return nil
	}
	used, q := s.projectUsage(inst.ProjectID), s.quota(inst.ProjectID)
	for _, other := range s.Instances {
		if m := s.migrationFor(other); m != nil && other.ProjectID == inst.ProjectID && m.Kind == MigrationResize &&
			other.Flavor == m.OldFlavor && other.VMState != VMDeleted {
			used.Cores += max(0, m.NewFlavor.VCPUs-m.OldFlavor.VCPUs)
			used.RAM += max(0, m.NewFlavor.RAM-m.OldFlavor.RAM)
		}
	}
	if err := checkQuota(QuotaCores, cores, used.Cores, q.Cores); err != nil {
		return err
	}
	return checkQuota(QuotaRAM, ram, used.RAM, q.RAM)
}

// checkMoveTarget says why inst cannot move to host with flavor now.
func (s *State) checkMoveTarget(inst *Instance, host string, flavor FlavorSpec, r Ratios) error {
	if _, ok := s.Hosts[host]; !ok {
		return fmt.Errorf("%w: Compute host %s could not be found.", ErrInvalid, host)
	}
	if host == inst.Host {
		return fmt.Errorf("%w: Unable to migrate instance (%s) to current host (%s).", ErrInvalid, inst.ID, host)
	}
	if r.CPU <= 0 || r.RAM <= 0 || r.Disk <= 0 {
		return fmt.Errorf("%w: a migration to a named host needs positive allocation ratios", ErrInvalid)
	}
	if why := s.placementProblemFor(inst, host, flavor, r); why != "" {
		return fmt.Errorf("%w: Migration pre-check error: %s", ErrInvalid, why)
	}
	return nil
}

func applyResizeDecision(s *State, index uint64, c Command) error {
	cmd := c.(*ResizeDecision)
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	if err := inst.CheckLock(cmd.Admin); err != nil {
		return err
	}
	action := ActionConfirmResize
	if cmd.Revert {
		action = ActionRevertResize
	}
	m := s.migrationFor(inst)
	switch {
	case inst.VMState != VMResized || inst.TaskState != TaskNone:
		return fmt.Errorf("%w: Cannot '%s' instance %s while it is in vm_state %s", ErrConflict, action, inst.ID, inst.VMState)
	case m == nil:
		return fmt.Errorf("%w: Instance %s has not been resized.", ErrInvalid, inst.ID)
	case cmd.Revert && s.Hosts[m.Source].isDown():
		return fmt.Errorf("%w: cannot revert the resize of %s: its source host %s is down", ErrConflict, inst.ID, m.Source)
	}
	by := Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}
	s.untrack(inst)
	inst.startAction(cmd.RequestID, action, by, cmd.Time)
	if cmd.Revert {
		inst.TaskState, inst.TaskIndex = TaskResizeReverting, index
		m.Status, m.Updated, m.ModifyIndex = MigrationReverting, cmd.Time, index
	} else {
		inst.VMState = m.PrevVMState
		s.endMigration(inst, MigrationConfirmed, "", cmd.Time, index)
		inst.finishAction("success", "", cmd.Time)
	}
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	s.track(inst)
	return nil
}
