package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Host is the wire shape of a host in GET /v1/hosts: the replicated record
// plus what Nova's service list shows, state (gossip's liveness) and status
// (enabled or disabled for new servers).
type Host struct {
	fsm.Host
	State  string `json:"state"`  // up|down
	Status string `json:"status"` // enabled|disabled
}

// HostList is the body of GET /v1/hosts.
type HostList struct {
	Hosts []Host `json:"hosts"`
}

// HostResponse is the body of POST /v1/hosts/{name}/enable and /disable.
type HostResponse struct {
	Host Host `json:"host"`
}

// HostDisable is the optional body of POST /v1/hosts/{name}/disable.
type HostDisable struct {
	Reason string `json:"reason,omitempty"`
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	setIndex(w, s.state.Index())
	up := s.upHosts()
	hosts := []Host{}
	for _, h := range s.state.Hosts() {
		hosts = append(hosts, hostView(h, up))
	}
	writeJSON(w, http.StatusOK, HostList{Hosts: hosts})
}

// upHosts is the set of nodes gossip sees alive (or merely suspect).
func (s *Server) upHosts() map[string]bool {
	up := map[string]bool{}
	for _, m := range s.cluster.Members() {
		if m.Status == "alive" || m.Status == "suspect" {
			up[m.Name] = true
		}
	}
	return up
}

func hostView(h fsm.Host, up map[string]bool) Host {
	v := Host{Host: h, State: "down", Status: "disabled"}
	if up[h.Name] {
		v.State = "up"
	}
	if h.Enabled {
		v.Status = "enabled"
	}
	return v
}

func (s *Server) disableHost(w http.ResponseWriter, r *http.Request) {
	var req HostDisable
	err := decodeOptional(w, r, &req)
	if err == nil {
		err = validText("reason", req.Reason, maxReasonLen)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setHostEnabled(w, r, false, req.Reason)
}

func (s *Server) enableHost(w http.ResponseWriter, r *http.Request) {
	var req struct{} // no fields: any given is an error
	if err := decodeOptional(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.setHostEnabled(w, r, true, "")
}

func (s *Server) setHostEnabled(w http.ResponseWriter, r *http.Request, enabled bool, reason string) {
	h, err := s.state.Host(r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, err := s.apply(r.Context(), &fsm.SetHostEnabled{Name: h.Name, Enabled: enabled, Reason: reason, Time: time.Now().UTC()})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if h, err = s.state.Host(h.Name); err != nil {
		s.writeError(w, r, fmt.Errorf("reading back host %q applied at index %d: %w", h.Name, idx, err))
		return
	}
	setIndex(w, idx)
	writeJSON(w, http.StatusOK, HostResponse{Host: hostView(h, s.upHosts())})
}
