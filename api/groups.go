package api

import (
	"net/http"
	"net/url"

	"github.com/shoal-project/shoal/fsm"
)

// ServerGroupCreate is what POST /v1/server-groups takes, wrapped as
// {"server_group":{...}}. Policy is affinity, anti-affinity, soft-affinity
// or soft-anti-affinity. MaxServerPerHost (anti-affinity only; 0: the
// default, 1) is how many members one host may hold.
type ServerGroupCreate struct {
	Name             string `json:"name"`
	Policy           string `json:"policy"`
	MaxServerPerHost int    `json:"max_server_per_host,omitempty"`
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
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, ServerGroupList{ServerGroups: s.ops.serverGroups(scope)})
}

func (s *Server) showServerGroup(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	g, err := s.ops.ServerGroup(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ServerGroupResponse{ServerGroup: g} })
}

func (s *Server) createServerGroup(w http.ResponseWriter, r *http.Request) {
	var req ServerGroupCreate
	if err := decodeWrapped(w, r, "server_group", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, g, err := s.ops.CreateServerGroup(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/server-groups/"+url.PathEscape(g.ID), ServerGroupResponse{ServerGroup: g})
}

func (s *Server) deleteServerGroup(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteServerGroup(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// withMembers makes an empty member list [] rather than null on the wire.
func withMembers(g fsm.ServerGroup) fsm.ServerGroup {
	if g.Members == nil {
		g.Members = []string{}
	}
	return g
}
