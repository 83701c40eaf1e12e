package api

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// The /v1 server actions that move a server (fsm.MigrateInstance,
// fsm.ResizeDecision). Live and cold migration are an admin's (Nova's
// default policy); resize, confirm and revert are the owner's.
const (
	ActionLiveMigrate   = "live-migrate"
	ActionMigrate       = "migrate"
	ActionResize        = "resize"
	ActionConfirmResize = "confirm-resize"
	ActionRevertResize  = "revert-resize"
)

// moveKinds are the kinds of migration the moving actions start.
var moveKinds = map[string]string{
	ActionLiveMigrate: fsm.MigrationLive,
	ActionMigrate:     fsm.MigrationCold,
	ActionResize:      fsm.MigrationResize,
}

// withDefaultRatios fills a zero component of r with fsm.DefaultRatios',
// as the scheduler does, so a named host is checked as a placement is.
func withDefaultRatios(r fsm.Ratios) fsm.Ratios {
	if r.CPU <= 0 {
		r.CPU = fsm.DefaultRatios.CPU
	}
	if r.RAM <= 0 {
		r.RAM = fsm.DefaultRatios.RAM
	}
	if r.Disk <= 0 {
		r.Disk = fsm.DefaultRatios.Disk
	}
	return r
}

// moveCommand builds the command of a moving action on inst, stamped with
// the caller, the request, a new migration UUID and the time. What the API
// can see is refused before proposing (a locked server, an unknown host
// or flavor); the server's state is Apply's call (409).
func (s *Server) moveCommand(ctx context.Context, inst fsm.Instance, req ServerActionRequest) (fsm.Command, error) {
	p := Caller(ctx)
	if err := inst.CheckLock(p.Admin()); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	switch req.Action {
	case ActionConfirmResize, ActionRevertResize:
		return &fsm.ResizeDecision{ID: inst.ID, Revert: req.Action == ActionRevertResize, RequestID: RequestID(ctx),
			UserID: p.UserID, ProjectID: p.ProjectID, Admin: p.Admin(), Time: now}, nil
	}
	cmd := &fsm.MigrateInstance{ID: inst.ID, Kind: moveKinds[req.Action], Host: req.Host, Ratios: s.ratios,
		MigrationUUID: uuid.NewString(), RequestID: RequestID(ctx), UserID: p.UserID, ProjectID: p.ProjectID,
		Admin: p.Admin(), Time: now}
	// Apply checks the host and the flavor again, with the same words.
	if req.Host != "" {
		if _, err := s.state.Host(req.Host); err != nil {
			return nil, fmt.Errorf("%w: Compute host %s could not be found.", fsm.ErrInvalid, req.Host)
		}
		if req.Host == inst.Host {
			return nil, fmt.Errorf("%w: Unable to migrate instance (%s) to current host (%s).", fsm.ErrInvalid, inst.ID, req.Host)
		}
	}
	if req.Action == ActionResize {
		f, err := s.flavorFor(ctx, req.Flavor)
		if err != nil {
			return nil, fmt.Errorf("%w: Flavor %s could not be found.", fsm.ErrInvalid, req.Flavor)
		}
		if f.ID == inst.Flavor.ID {
			return nil, fmt.Errorf("%w: When resizing, instances must change flavor!", fsm.ErrInvalid)
		}
		cmd.FlavorID = f.ID
	}
	return cmd, nil
}

// MigrationFilter selects migrations (GET /v1/migrations, Nova's
// os-migrations). Host matches the source or the destination; Status
// matches in any case; InProgress keeps those neither ended nor waiting
// for confirmation, as Nova's in-progress list (fsm.Migration.InProgress);
// ChangesSince and ChangesBefore bound updated_at (inclusive). Marker is a
// migration's UUID: the page starts after it; Limit 0 means all.
type MigrationFilter struct {
	InstanceID    string
	Host          string
	Source        string
	Status        string
	Kind          string
	ProjectID     string
	UserID        string
	InProgress    bool
	ChangesSince  time.Time
	ChangesBefore time.Time
	Limit         int
	Marker        string
}

// Query is f as GET /v1/migrations takes it (instance_uuid, host, status,
// migration_type; the other fields are Nova's and not sent).
func (f MigrationFilter) Query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"instance_uuid": f.InstanceID, "host": f.Host, "status": f.Status,
		"migration_type": f.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func (f MigrationFilter) matches(m *fsm.Migration) bool {
	return (f.InstanceID == "" || m.InstanceID == f.InstanceID) &&
		(f.Host == "" || m.Source == f.Host || m.Dest == f.Host) &&
		(f.Source == "" || m.Source == f.Source) &&
		(f.Status == "" || strings.EqualFold(m.Status, f.Status)) &&
		(f.Kind == "" || m.Kind == f.Kind) &&
		(f.ProjectID == "" || m.ProjectID == f.ProjectID) &&
		(f.UserID == "" || m.UserID == f.UserID) &&
		(!f.InProgress || m.InProgress()) &&
		(f.ChangesSince.IsZero() || !m.Updated.Before(f.ChangesSince)) &&
		(f.ChangesBefore.IsZero() || !m.Updated.After(f.ChangesBefore))
}

// Migrations lists the migrations f selects, newest first: all of them
// for an admin, those of its project's servers for anyone else. An
// unknown marker or a negative limit is 400.
func (o *Ops) Migrations(ctx context.Context, f MigrationFilter) ([]fsm.Migration, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("%w: limit must not be negative, not %d", fsm.ErrInvalid, f.Limit)
	}
	sees := o.s.migrationScope(ctx)
	all := o.s.state.Migrations(func(m *fsm.Migration) bool { return sees(m) && f.matches(m) })
	if f.Marker != "" {
		k := slices.IndexFunc(all, func(m fsm.Migration) bool { return m.UUID == f.Marker })
		if k < 0 {
			return nil, fmt.Errorf("%w: Marker %s could not be found.", fsm.ErrInvalid, f.Marker)
		}
		all = all[k+1:]
	}
	if f.Limit > 0 && len(all) > f.Limit {
		all = all[:f.Limit]
	}
	return all, nil
}

// Migration is one migration the caller may see (another project's is
// absent).
func (o *Ops) Migration(ctx context.Context, id uint64) (fsm.Migration, error) {
	m, err := o.s.state.Migration(id)
	if err == nil && !o.s.migrationScope(ctx)(&m) {
		return fsm.Migration{}, fmt.Errorf("%w: migration %d", fsm.ErrNotFound, id)
	}
	return m, err
}

// migrationScope says which migrations the caller may see: any for an
// admin, else those of servers of its project (deleted ones too).
func (s *Server) migrationScope(ctx context.Context) func(*fsm.Migration) bool {
	p := Caller(ctx)
	if p.Admin() {
		return func(*fsm.Migration) bool { return true }
	}
	mine := map[string]bool{}
	for _, inst := range s.state.Instances(func(i *fsm.Instance) bool { return p.Sees(i.ProjectID) }) {
		mine[inst.ID] = true
	}
	for _, d := range s.state.DeletedInstances(time.Time{}, func(i *fsm.Instance) bool { return p.Sees(i.ProjectID) }) {
		mine[d.ID] = true
	}
	return func(m *fsm.Migration) bool { return mine[m.InstanceID] }
}

// ServerMigrations are the live migrations of a server the caller may see
// that are in progress (Nova's GET /servers/{id}/migrations), newest
// first.
func (o *Ops) ServerMigrations(ctx context.Context, serverID string) ([]fsm.Migration, error) {
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return nil, err
	}
	return o.s.state.Migrations(func(m *fsm.Migration) bool {
		return m.InstanceID == inst.ID && m.Kind == fsm.MigrationLive && m.InProgress()
	}), nil
}

// ServerMigration is one live migration in progress of a server (404, in
// Nova's words, when it is not one).
func (o *Ops) ServerMigration(ctx context.Context, serverID string, id uint64) (fsm.Migration, error) {
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return fsm.Migration{}, err
	}
	m, err := o.s.state.Migration(id)
	if err != nil || m.InstanceID != inst.ID || m.Kind != fsm.MigrationLive || !m.InProgress() {
		return fsm.Migration{}, fmt.Errorf("%w: In-progress live migration %d is not found for server %s.",
			fsm.ErrNotFound, id, inst.ID)
	}
	return m, nil
}

// ForceCompleteMigration is Nova's force_complete of a live migration,
// which Nova allows only while libvirt is copying memory ("running"). A
// shoal live migration is never reported running (the source host does
// the whole copy in one step), so this answers as Nova does for any other
// state: 409 when the server is not migrating, 400 for a migration of
// another server or one not running. Nothing is proposed.
func (o *Ops) ForceCompleteMigration(ctx context.Context, serverID string, id uint64) error {
	m, err := o.liveMigrationOf(ctx, serverID, id, "force_complete", fsm.ErrInvalid)
	if err != nil {
		return err
	}
	return fmt.Errorf("%w: Migration %d state of instance %s is %s. Cannot force complete while the migration is in this state.",
		fsm.ErrInvalid, id, m.InstanceID, m.Status)
}

// AbortMigration is Nova's abort (DELETE /servers/{id}/migrations/{mid})
// of a live migration in progress. Without queued (Nova below 2.65) only a
// running one may be aborted, which a shoal migration never is (400);
// with it, a queued or preparing one could be, which shoal does not do
// yet: Nova's 409 for a compute that cannot.
func (o *Ops) AbortMigration(ctx context.Context, serverID string, id uint64, queued bool) error {
	m, err := o.liveMigrationOf(ctx, serverID, id, "abort live migration", fsm.ErrNotFound)
	if err != nil {
		return err
	}
	if queued && (m.Status == fsm.MigrationQueued || m.Status == fsm.MigrationPreparing) {
		return fmt.Errorf("%w: Aborting live migration %d with status %s is not yet supported for this instance.",
			fsm.ErrConflict, id, m.Status)
	}
	return fmt.Errorf("%w: Migration %d state of instance %s is %s. Cannot abort live migration while the migration is in this state.",
		fsm.ErrInvalid, id, m.InstanceID, m.Status)
}

// liveMigrationOf checks, as Nova's live_migrate_force_complete and
// live_migrate_abort do, that server serverID is migrating (409 in Nova's
// words) and that migration id is its own (else missing: Nova's
// force_complete answers 400 where abort answers 404).
func (o *Ops) liveMigrationOf(ctx context.Context, serverID string, id uint64, verb string, missing error) (fsm.Migration, error) {
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return fsm.Migration{}, err
	}
	if inst.TaskState != fsm.TaskMigrating {
		state, value := "task_state", inst.TaskState
		if value == "" {
			state, value = "vm_state", inst.VMState
		}
		return fsm.Migration{}, fmt.Errorf("%w: Cannot '%s' instance %s while it is in %s %s",
			fsm.ErrConflict, verb, inst.ID, state, value)
	}
	m, err := o.s.state.Migration(id)
	if err != nil || m.InstanceID != inst.ID {
		return fsm.Migration{}, fmt.Errorf("%w: Migration %d not found for instance %s",
			missing, id, inst.ID)
	}
	return m, nil
}

// parseMigrationID reads a migration ID from a path (404 when it is not one).
func parseMigrationID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 {
		return 0, fmt.Errorf("%w: migration %q", fsm.ErrNotFound, s)
	}
	return id, nil
}
