package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// maxJoinPeers bounds a join request; a handful of seeds is all a join needs.
const maxJoinPeers = 64

// MemberList is the body of GET /v1/cluster/members.
type MemberList struct {
	Members []Member `json:"members"`
}

// LeaderResponse is the body of GET /v1/cluster/leader.
type LeaderResponse struct {
	Leader Leader `json:"leader"`
}

// JoinRequest is the body of POST /v1/cluster/join; Peer is shorthand for one peer.
type JoinRequest struct {
	Peers []string `json:"peers,omitempty"`
	Peer  string   `json:"peer,omitempty"`
}

// JoinResponse is the body of a successful join: the node's health afterwards.
type JoinResponse struct {
	Health Health `json:"health"`
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	setIndex(w, s.state.Index())
	h := s.cluster.Health()
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, h)
}

func (s *Server) members(w http.ResponseWriter, r *http.Request) {
	setIndex(w, s.state.Index())
	members := slices.Clone(s.cluster.Members())
	if members == nil {
		members = []Member{}
	}
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	writeJSON(w, http.StatusOK, MemberList{Members: members})
}

func (s *Server) leader(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	l, ok := s.cluster.Leader()
	if !ok {
		s.writeError(w, r, fsm.ErrNoLeader)
		return
	}
	setIndex(w, idx)
	writeJSON(w, http.StatusOK, LeaderResponse{Leader: l})
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if err := decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	peers := req.Peers
	if req.Peer != "" {
		peers = append(peers, req.Peer)
	}
	if err := validPeers(peers); err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), joinTimeout)
	defer cancel()
	if err := s.cluster.Join(ctx, peers); err != nil {
		s.writeError(w, r, err)
		return
	}
	setIndex(w, s.state.Index())
	writeJSON(w, http.StatusOK, JoinResponse{Health: s.cluster.Health()})
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
	ctx, cancel := context.WithTimeout(r.Context(), joinTimeout)
	defer cancel()
	if err := s.cluster.Leave(ctx); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, LeaveResponse{Left: name})
}

// validPeers checks that each peer is host:port with a port in 1..65535.
func validPeers(peers []string) error {
	if len(peers) == 0 {
		return fmt.Errorf("%w: join needs at least one peer (host:port)", fsm.ErrInvalid)
	}
	if len(peers) > maxJoinPeers {
		return fmt.Errorf("%w: join takes at most %d peers, got %d", fsm.ErrInvalid, maxJoinPeers, len(peers))
	}
	for _, p := range peers {
		host, port, err := net.SplitHostPort(p)
		if err != nil || host == "" || strings.ContainsAny(host, " \t\r\n/") {
			return fmt.Errorf("%w: peer %q is not host:port", fsm.ErrInvalid, p)
		}
		if !validPort(port) {
			return fmt.Errorf("%w: peer %q: port must be a number from 1 to 65535", fsm.ErrInvalid, p)
		}
	}
	return nil
}

func validPort(port string) bool {
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}
