package api

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// ServerGroupCreate is what POST /v1/server-groups takes, wrapped as
// {"server_group":{...}}. Policy is affinity, anti-affinity, soft-affinity
// or soft-anti-affinity.
type ServerGroupCreate struct {
	Name   string `json:"name"`
	Policy string `json:"policy"`
}

// ServerGroupResponse is the body of GET /v1/server-groups/{id} and of a create.
type ServerGroupResponse struct {
	ServerGroup fsm.ServerGroup `json:"server_group"`
}

// ServerGroupList is the body of GET /v1/server-groups.
type ServerGroupList struct {
	ServerGroups []fsm.ServerGroup `json:"server_groups"`
}

// listServerGroups shows the caller's project's groups; an admin sees
// every project's with all_projects (Nova's parameter for server groups).
func (s *Server) listServerGroups(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	err := onlyParams(q, "all_projects", "consistent")
	var scope tenantScope
	if err == nil {
		scope, err = listScope(r, q, "all_projects")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	groups := []fsm.ServerGroup{}
	for _, g := range s.state.ServerGroups() {
		if scope.has(g.ProjectID) {
			groups = append(groups, withMembers(g))
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, ServerGroupList{ServerGroups: groups})
}

func (s *Server) showServerGroup(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	g, err := s.serverGroupFor(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ServerGroupResponse{ServerGroup: withMembers(g)} })
}

func (s *Server) createServerGroup(w http.ResponseWriter, r *http.Request) {
	var req ServerGroupCreate
	err := decodeWrapped(w, r, "server_group", &req)
	if err == nil {
		err = validName("server group name", req.Name)
	}
	if err == nil && !fsm.ValidPolicy(req.Policy) {
		err = fmt.Errorf("%w: policy %q: use affinity, anti-affinity, soft-affinity or soft-anti-affinity", fsm.ErrInvalid, truncate(req.Policy))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	g := fsm.ServerGroup{ID: uuid.NewString(), Name: req.Name, Policy: req.Policy, ProjectID: p.ProjectID, UserID: p.UserID,
		Created: time.Now().UTC()}
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateServerGroup{Group: g}, "server group", g.ID, s.state.ServerGroup)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/server-groups/"+url.PathEscape(g.ID), ServerGroupResponse{ServerGroup: withMembers(created)})
}

func (s *Server) deleteServerGroup(w http.ResponseWriter, r *http.Request) {
	g, err := s.serverGroupFor(r.Context(), r.PathValue("id"))
	s.commitDelete(w, r, err, &fsm.DeleteServerGroup{ID: g.ID})
}

// withMembers makes an empty member list [] rather than null on the wire.
func withMembers(g fsm.ServerGroup) fsm.ServerGroup {
	if g.Members == nil {
		g.Members = []string{}
	}
	return g
}
