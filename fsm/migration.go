package fsm

import (
	"slices"
	"time"
)

// Migration kinds (Nova's migration_type).
const (
	MigrationLive       = "live-migration"
	MigrationCold       = "migration"
	MigrationResize     = "resize"
	MigrationEvacuation = "evacuation"
)

// Migration statuses, Nova's words. A live migration is queued (waiting for
// the scheduler), preparing (its destination chosen, the source at work),
// then completed, failed (libvirt gave up: the server stays where it was)
// or error (a host went down under it). A cold migration or resize is
// pre-migrating (waiting for the scheduler), migrating (the source copies
// the stopped guest), post-migrating (the destination finishes it),
// finished (VERIFY_RESIZE), then confirmed, or reverting and reverted; error
// when it cannot go on. An evacuation is accepted, pre-migrating once
// placed, then done or failed.
const (
	MigrationQueued        = "queued"
	MigrationPreparing     = "preparing"
	MigrationCompleted     = "completed"
	MigrationFailed        = "failed"
	MigrationError         = "error"
	MigrationPreMigrating  = "pre-migrating"
	MigrationMigrating     = "migrating"
	MigrationPostMigrating = "post-migrating"
	MigrationFinished      = "finished"
	MigrationConfirmed     = "confirmed"
	MigrationReverting     = "reverting"
	MigrationReverted      = "reverted"
	MigrationAccepted      = "accepted"
	MigrationDone          = "done"
)

// MaxMigrations bounds the record of migrations: beyond it the oldest
// ended ones go first (a migration in progress is never dropped).
const MaxMigrations = 1000

// Migration is one move of a server between hosts (Nova's os-migrations
// record): live and cold migrations, resizes and evacuations. IDs count up
// from 1 in the state (MigrationSeq), as Nova's. Dest is empty while the
// scheduler chooses. OldFlavor is the server's flavor before the move,
// NewFlavor the one it has on Dest (they differ only for a resize).
// PrevVMState is what the server was when the move began (active, paused
// or stopped): a cold migration ends, and a revert goes back, as it was.
type Migration struct {
	ID          uint64     `json:"id"`
	UUID        string     `json:"uuid"`
	InstanceID  string     `json:"instance_uuid"`
	Kind        string     `json:"migration_type"`
	Status      string     `json:"status"`
	Source      string     `json:"source_compute"`
	Dest        string     `json:"dest_compute,omitempty"`
	OldFlavor   FlavorSpec `json:"old_flavor"`
	NewFlavor   FlavorSpec `json:"new_flavor"`
	PrevVMState string     `json:"prev_vm_state,omitempty"`
	ProjectID   string     `json:"project_id,omitempty"`
	UserID      string     `json:"user_id,omitempty"`
	RequestID   string     `json:"request_id,omitempty"`
	// Message says why it failed, or how a live migration went.
	Message string    `json:"message,omitempty"`
	Created time.Time `json:"created_at"`
	Updated time.Time `json:"updated_at"`
	Indexes
}

// Ended reports whether the migration is over, whatever its outcome.
func (m *Migration) Ended() bool {
	switch m.Status {
	case MigrationCompleted, MigrationFailed, MigrationError, MigrationConfirmed,
		MigrationReverted, MigrationDone:
		return true
	}
	return false
}

// InProgress is Nova's "in progress" for os-migrations: neither ended nor
// waiting for the user's confirmation.
func (m *Migration) InProgress() bool { return !m.Ended() }

// migrationFor is the migration moving inst now, nil when none.
func (s *State) migrationFor(inst *Instance) *Migration {
	if inst.MigrationID == 0 {
		return nil
	}
	return s.Migrations[inst.MigrationID]
}

// newMigration records a migration of inst that starts now, and makes it
// the one moving inst (evacuations too).
func (s *State) newMigration(inst *Instance, kind, status, dest, uuid, requestID string, by Actor, newFlavor FlavorSpec, t time.Time, index uint64) *Migration {
	if s.Migrations == nil {
		s.Migrations = map[uint64]*Migration{}
	}
	s.MigrationSeq++
	m := &Migration{
		ID: s.MigrationSeq, UUID: uuid, InstanceID: inst.ID, Kind: kind, Status: status,
		Source: inst.Host, Dest: dest, OldFlavor: inst.Flavor, NewFlavor: newFlavor,
		PrevVMState: inst.VMState, ProjectID: by.ProjectID, UserID: by.UserID, RequestID: requestID,
		Created: t, Updated: t,
	}
	m.CreateIndex, m.ModifyIndex = index, index
	s.Migrations[m.ID] = m
	inst.MigrationID = m.ID
	s.pruneMigrations()
	return m
}

// endMigration moves the migration of inst on to status; an ended one
// stops moving its server.
func (s *State) endMigration(inst *Instance, status, message string, t time.Time, index uint64) {
	m := s.migrationFor(inst)
	if m == nil {
		inst.MigrationID, inst.MigrationPending = 0, false
		return
	}
	m.Status, m.Updated, m.ModifyIndex = status, t, index
	if message != "" {
		m.Message = message
	}
	if m.Ended() {
		inst.MigrationID, inst.MigrationPending = 0, false
	}
}

// pruneMigrations drops the oldest ended records beyond MaxMigrations.
func (s *State) pruneMigrations() {
	if len(s.Migrations) <= MaxMigrations {
		return
	}
	ids := make([]uint64, 0, len(s.Migrations))
	for id, m := range s.Migrations {
		if m.Ended() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if len(s.Migrations) <= MaxMigrations {
			return
		}
		delete(s.Migrations, id)
	}
}

// otherEnd is the host a migration in progress holds a claim on besides
// the server's own host, and the flavor claimed there: the destination
// while the server is still on its source, the source (kept for a revert)
// once it is on its destination. "" when there is none.
func (s *State) otherEnd(inst *Instance) (string, FlavorSpec) {
	m := s.migrationFor(inst)
	if m == nil || m.Kind == MigrationEvacuation || m.Dest == "" || inst.Host == "" || m.Source == m.Dest {
		return "", FlavorSpec{}
	}
	switch inst.Host {
	case m.Source:
		return m.Dest, m.NewFlavor
	case m.Dest:
		return m.Source, m.OldFlavor
	}
	return "", FlavorSpec{}
}

func (m *Migration) clone() *Migration {
	c := *m
	return &c
}
