package fsm

import (
	"fmt"
	"slices"
)

// Migrations lists the record of migrations that keep returns true for
// (all when keep is nil), newest first (by ID, descending), as Nova lists
// them.
func (f *FSM) Migrations(keep func(*Migration) bool) []Migration {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]Migration, 0, len(f.state.Migrations))
	for _, m := range f.state.Migrations {
		if keep == nil || keep(m) {
			out = append(out, *m)
		}
	}
	slices.SortFunc(out, func(a, b Migration) int {
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out
}

// Migration finds one migration by ID.
func (f *FSM) Migration(id uint64) (Migration, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	m, ok := f.state.Migrations[id]
	if !ok {
		return Migration{}, fmt.Errorf("%w: migration %d", ErrNotFound, id)
	}
	return *m, nil
}

// Moving is a server that a migration in progress ties to a host other
// than its own, and that migration.
type Moving struct {
	Instance  Instance
	Migration Migration
}

// MovingWith lists the servers whose migration in progress has host as
// its other end (Migration.Source or Dest, while the server's Host is the
// other one), ordered by ID: the domain they have there, or are getting,
// is theirs and no orphan, and the host acts on it only as the migration's
// steps say.
func (f *FSM) MovingWith(host string) []Moving {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []Moving
	for _, inst := range f.state.Instances {
		if h, _ := f.state.otherEnd(inst); h == host {
			out = append(out, Moving{Instance: inst.clone(), Migration: *f.state.Migrations[inst.MigrationID]})
		}
	}
	slices.SortFunc(out, func(a, b Moving) int {
		switch {
		case a.Instance.ID < b.Instance.ID:
			return -1
		case a.Instance.ID > b.Instance.ID:
			return 1
		}
		return 0
	})
	return out
}

// MigrationOf is the migration moving server id now (ErrNotFound when
// none).
func (f *FSM) MigrationOf(id string) (Migration, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	inst, ok := f.state.Instances[id]
	if !ok {
		return Migration{}, fmt.Errorf("%w: server %q", ErrNotFound, id)
	}
	m := f.state.migrationFor(inst)
	if m == nil {
		return Migration{}, fmt.Errorf("%w: server %s is not moving", ErrNotFound, id)
	}
	return *m, nil
}
