package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	// Named: the package's tests have a type called compute.
	driver "github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// InternalMigrationTarget is where a migration's source asks its
// destination, with its node certificate, to make ready for the server
// ({id}) arriving (the agent's Peers builds the same path).
const InternalMigrationTarget = "/internal/v1/servers/{id}/migration-target"

// Migrator readies this node for servers migrating to it. cmd wires the
// compute driver's compute.Migrator; a domain active here already is its
// compute.ErrInvalidState.
type Migrator interface {
	// PrepareIncoming readies the disk, config drive and address of spec's
	// domain and returns the domain's XML as this host defines it.
	PrepareIncoming(ctx context.Context, spec driver.InstanceSpec) (string, error)
}

// MigrationTarget is the answer of the migration-target call: the XML the
// source hands libvirt as the destination's, or Arrived when the server's
// domain is active on this node already (the migration brought it: a
// source that restarted before its Done was committed asks again).
type MigrationTarget struct {
	DomainXML string `json:"domain_xml"`
	Arrived   bool   `json:"arrived,omitempty"`
}

// migrationTarget prepares this node for the server the caller (a node)
// is migrating here.
func (s *Server) migrationTarget(w http.ResponseWriter, r *http.Request) {
	xml, err := s.ops.prepareMigrationTarget(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, driver.ErrInvalidState): // its domain is active here already
		WriteJSON(w, http.StatusOK, MigrationTarget{Arrived: true})
	case err != nil:
		s.writeError(w, r, err)
	default:
		WriteJSON(w, http.StatusOK, MigrationTarget{DomainXML: xml})
	}
}

// prepareMigrationTarget checks that the server's migration names this
// node as its destination and prepares for the domain as it moves: with
// the flavor it has now (the migration's old one; a resize applies the
// new one once it is here). A replica that does not know of the
// migration yet catches up with the leader once before it refuses.
func (o *Ops) prepareMigrationTarget(ctx context.Context, id string) (string, error) {
	s := o.s
	if s.migrator == nil {
		return "", fmt.Errorf("%w: this node cannot take migrating servers", errNotImplemented)
	}
	inst, m, err := o.incomingMigration(id)
	if err != nil { // this replica may lag behind the source's
		sctx, cancel := context.WithTimeout(ctx, settleTimeout)
		serr := s.cluster.Sync(sctx)
		cancel()
		if serr == nil {
			inst, m, err = o.incomingMigration(id)
		}
	}
	if err != nil {
		return "", err
	}
	inst.Flavor = m.OldFlavor
	xml, err := s.migrator.PrepareIncoming(ctx, driver.SpecOf(inst))
	if err != nil {
		return "", fmt.Errorf("preparing for %s: %w", id, err)
	}
	s.log.Info("prepared for an incoming migration", "instance", id, "migration", m.ID, "kind", m.Kind, "source", m.Source)
	return xml, nil
}

// incomingMigration is server id and the migration bringing it to this
// node: fsm.ErrNotFound for an unknown server, fsm.ErrConflict when no
// migration in progress names this node as its destination.
func (o *Ops) incomingMigration(id string) (fsm.Instance, fsm.Migration, error) {
	s := o.s
	inst, err := s.state.Instance(id)
	if err != nil {
		return fsm.Instance{}, fsm.Migration{}, err
	}
	m, err := s.state.MigrationOf(id)
	switch {
	case err != nil:
		return inst, m, fmt.Errorf("%w: server %s is not migrating", fsm.ErrConflict, id)
	case m.Dest != s.node || m.Ended():
		return inst, m, fmt.Errorf("%w: the migration of server %s goes to %q, not to %s", fsm.ErrConflict, id, m.Dest, s.node)
	}
	return inst, m, nil
}
