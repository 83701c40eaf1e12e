package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/shoal-project/shoal/fsm"
)

// Keystone's project, as shown. Every project is a root project of the
// default domain: its parent is the domain, it has no tags nor options.
type projectDoc struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	DomainID    string         `json:"domain_id"`
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	ParentID    string         `json:"parent_id"`
	IsDomain    bool           `json:"is_domain"`
	Tags        []string       `json:"tags"`
	Options     map[string]any `json:"options"`
	Links       links          `json:"links"`
}

func projectOf(r *http.Request, p fsm.Project) projectDoc {
	return projectDoc{ID: p.ID, Name: p.Name, DomainID: p.DomainID, Description: p.Description, Enabled: p.Enabled,
		ParentID: p.DomainID, Tags: []string{}, Options: map[string]any{}, Links: links{Self: objectURL(r, "projects", p.ID)}}
}

// projectRequest is the body of a project's create or update. Keystone's
// hierarchy fields are accepted only with the values every project has.
type projectRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
	Enabled     *bool   `json:"enabled"`
	DomainID    *string `json:"domain_id"`
	ParentID    *string `json:"parent_id"`
	IsDomain    *bool   `json:"is_domain"`
}

// check refuses what shoal's projects cannot be.
func (p projectRequest) check() error {
	switch {
	case p.IsDomain != nil && *p.IsDomain:
		return fmt.Errorf("%w: projects acting as domains are not supported", fsm.ErrInvalid)
	case p.ParentID != nil && *p.ParentID != fsm.DefaultDomainID:
		return fmt.Errorf("%w: project hierarchies are not supported: parent_id must be %q", fsm.ErrInvalid, fsm.DefaultDomainID)
	}
	return checkDomain(p.DomainID)
}

// uniqueProject refuses a name in use; fsm decides for good, this spares
// the log a doomed entry.
func (s *Server) uniqueProject(name string) error {
	if p, err := s.state.Project(name); err == nil && p.Name == name {
		return errDuplicate("project", name)
	}
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	out := []projectDoc{}
	for _, p := range s.state.Projects() {
		if keep(q, "name", p.Name) && keep(q, "domain_id", p.DomainID) && keepEnabled(q, p.Enabled) {
			out = append(out, projectOf(r, p))
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, map[string]any{"projects": out, "links": listLinks(r)})
}

// keep applies a list filter: the query's value for key, when there is one,
// must be value.
func keep(q url.Values, key, value string) bool {
	want, ok := q[key]
	return !ok || want[0] == value
}

// keepEnabled applies Keystone's ?enabled filter, a boolean.
func keepEnabled(q url.Values, enabled bool) bool {
	want, ok := q["enabled"]
	if !ok {
		return true
	}
	b, err := strconv.ParseBool(want[0])
	return err != nil || b == enabled
}

func (s *Server) showProject(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	p, err := s.project(r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return map[string]projectDoc{"project": projectOf(r, p)} })
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) {
	var req projectRequest
	err := decodeKeystone(w, r, "project", &req)
	if err == nil {
		err = req.check()
	}
	if err == nil && req.Name == nil {
		err = fmt.Errorf("%w: 'name' is a required property", fsm.ErrInvalid)
	}
	if err == nil {
		err = s.uniqueProject(*req.Name)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := fsm.Project{ID: newKeystoneID(), Name: *req.Name, DomainID: fsm.DefaultDomainID, Enabled: true, Created: s.auth.Now().UTC()}
	if req.Description != nil {
		p.Description = *req.Description
	}
	if req.Enabled != nil {
		p.Enabled = *req.Enabled
	}
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateProject{Project: p}, "project", p.ID, s.project)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, objectURL(r, "projects", p.ID), map[string]projectDoc{"project": projectOf(r, created)})
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) {
	var req projectRequest
	p, err := s.project(r.PathValue("id"))
	if err == nil {
		err = decodeKeystone(w, r, "project", &req)
	}
	if err == nil {
		err = req.check()
	}
	if err == nil && req.Name != nil && *req.Name != p.Name {
		err = s.uniqueProject(*req.Name)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cmd := &fsm.UpdateProject{ID: p.ID, Name: req.Name, Description: req.Description, Enabled: req.Enabled}
	idx, updated, err := applyRead(s, r.Context(), cmd, "project", p.ID, s.project)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeUpdated(w, idx, map[string]projectDoc{"project": projectOf(r, updated)})
}

// deleteProject removes a project and its role assignments; tokens scoped
// to it die with it.
func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) {
	p, err := s.project(r.PathValue("id"))
	s.commitDelete(w, r, err, &fsm.DeleteProject{ID: p.ID})
}
