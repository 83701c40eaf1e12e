package api

import (
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// MigrationList is the body of GET /v1/migrations, newest first.
type MigrationList struct {
	Migrations []fsm.Migration `json:"migrations"`
}

// MigrationResponse is the body of GET /v1/migrations/{id}.
type MigrationResponse struct {
	Migration fsm.Migration `json:"migration"`
}

// migrationRoutes: the record of migrations is a project reader's (Ops
// keeps a non-admin to its own project's servers' migrations); moving a
// server is a server action.
func (s *Server) migrationRoutes() {
	s.read("GET /v1/migrations", AccessProjectReader, s.listMigrations)
	s.read("GET /v1/migrations/{id}", AccessProjectReader, s.showMigration)
}

// migrationParams are the filters of GET /v1/migrations.
var migrationParams = []string{"instance_uuid", "host", "status", "migration_type", "consistent"}

func (s *Server) listMigrations(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	err := onlyParams(q, migrationParams...)
	for _, k := range migrationParams {
		if err == nil {
			err = validText(k, q.Get(k), maxFilterLen)
		}
	}
	var out []fsm.Migration
	if err == nil {
		out, err = s.ops.Migrations(r.Context(), MigrationFilter{InstanceID: q.Get("instance_uuid"), Host: q.Get("host"),
			Status: q.Get("status"), Kind: q.Get("migration_type")})
	}
	s.writeFound(w, r, idx, err, func() any { return MigrationList{Migrations: out} })
}

func (s *Server) showMigration(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	id, err := parseMigrationID(r.PathValue("id"))
	var m fsm.Migration
	if err == nil {
		m, err = s.ops.Migration(r.Context(), id)
	}
	s.writeFound(w, r, idx, err, func() any { return MigrationResponse{Migration: m} })
}
