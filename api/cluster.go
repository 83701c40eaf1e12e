package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// MemberList is the body of GET /v1/cluster/members.
type MemberList struct {
	Members []Member `json:"members"`
}

// LeaderResponse is the body of GET /v1/cluster/leader.
type LeaderResponse struct {
	Leader Leader `json:"leader"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	h := s.cluster.Health()
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, status, h)
}

func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	members := slices.Clone(s.cluster.Members())
	if members == nil {
		members = []Member{}
	}
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	WriteJSON(w, http.StatusOK, MemberList{Members: members})
}

func (s *Server) leader(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	l, ok := s.cluster.Leader()
	if !ok {
		s.writeError(w, r, fsm.ErrNoLeader)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, LeaderResponse{Leader: l})
}

// LeaveResponse is the body of a successful leave.
type LeaveResponse struct {
	Left string `json:"left"`
}

func (s *Server) leave(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		s.writeError(w, r, fmt.Errorf("%w: leave takes no body", fsm.ErrInvalid))
		return
	}
	name := s.cluster.Health().Name
	ctx, cancel := context.WithTimeout(r.Context(), membershipTimeout)
	defer cancel()
	if err := s.cluster.Leave(ctx); err != nil {
		s.writeError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, LeaveResponse{Left: name})
}
