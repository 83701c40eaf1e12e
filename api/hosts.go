package api

import (
	"net/http"

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

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) {
	setIndex(w, s.state.Index())
	up := map[string]bool{}
	for _, m := range s.cluster.Members() {
		if m.Status == "alive" || m.Status == "suspect" {
			up[m.Name] = true
		}
	}
	hosts := []Host{}
	for _, h := range s.state.Hosts() {
		v := Host{Host: h, State: "down", Status: "disabled"}
		if up[h.Name] {
			v.State = "up"
		}
		if h.Enabled {
			v.Status = "enabled"
		}
		hosts = append(hosts, v)
	}
	writeJSON(w, http.StatusOK, HostList{Hosts: hosts})
}
