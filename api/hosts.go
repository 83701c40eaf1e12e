package api

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// Host is the wire shape of a host in GET /v1/hosts: the replicated record
// plus what Nova's service list shows, state (down when gossip does not see
// it, when the leader declared it down, or when it is forced down) and
// status (enabled or disabled for new servers).
type Host struct {
	fsm.Host
	State  string `json:"state"`  // up|down
	Status string `json:"status"` // enabled|disabled
	notRecorded
}

// notRecorded keeps out of a host's JSON the inventory fields its record
// never holds (fsm.Inventory.Record leaves them zero; the member view shows
// them): encoding/json takes the least nested field of a name, and these are
// always empty.
type notRecorded struct {
	OmitVCPUsFree     json.RawMessage `json:"vcpus_free,omitempty"`
	OmitMemoryFreeMiB json.RawMessage `json:"memory_free_mib,omitempty"`
	OmitDiskFreeGiB   json.RawMessage `json:"disk_free_gib,omitempty"`
	OmitInstances     json.RawMessage `json:"instances,omitempty"`
	OmitAgentVersion  json.RawMessage `json:"agent_version,omitempty"`
}

// HostForceDown is the body of POST /v1/hosts/{name}/force-down.
type HostForceDown struct {
	ForcedDown bool `json:"forced_down"`
}

// HostEvacuate is the optional body of POST /v1/hosts/{name}/evacuate.
type HostEvacuate struct {
	Host string `json:"host,omitempty"` // target; the scheduler picks when empty
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
	SetIndex(w, s.state.Index())
	hosts, _ := s.ops.Hosts(r.Context())
	WriteJSON(w, http.StatusOK, HostList{Hosts: hosts})
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
	if up[h.Name] && !h.Down && !h.ForcedDown {
		v.State = "up"
	}
	if h.Enabled {
		v.Status = "enabled"
	}
	return v
}

func (s *Server) disableHost(w http.ResponseWriter, r *http.Request) {
	var req HostDisable
	if err := decodeOptional(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHost(w, r)(s.ops.SetHostEnabled(r.Context(), r.PathValue("name"), false, req.Reason))
}

func (s *Server) enableHost(w http.ResponseWriter, r *http.Request) {
	var req struct{} // no fields: any given is an error
	if err := decodeOptional(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHost(w, r)(s.ops.SetHostEnabled(r.Context(), r.PathValue("name"), true, ""))
}

// writeHost finishes a change to one host: the host it answers with.
func (s *Server) writeHost(w http.ResponseWriter, r *http.Request) func(uint64, Host, error) {
	return func(idx uint64, h Host, err error) {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		SetIndex(w, idx)
		WriteJSON(w, http.StatusOK, HostResponse{Host: h})
	}
}

// forceHostDown sets or clears Nova's forced_down. A forced-down host gets
// no lease, so it fences itself; once its lease has run out it is marked
// down and its servers are evacuated.
func (s *Server) forceHostDown(w http.ResponseWriter, r *http.Request) {
	var req HostForceDown
	if err := decodeBody(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHost(w, r)(s.ops.ForceHostDown(r.Context(), r.PathValue("name"), req.ForcedDown))
}

// evacuateHost evacuates every server of a host that is down (Nova's host
// evacuate); refused while the host is up.
func (s *Server) evacuateHost(w http.ResponseWriter, r *http.Request) {
	var req HostEvacuate
	if err := decodeOptional(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, out, err := s.ops.EvacuateHost(r.Context(), r.PathValue("name"), req.Host)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusAccepted, ServerList{Servers: out})
}

// removeHost is Nova's service delete: the node is out of the cluster for
// good and its certificates are refused by every node; coming back takes a
// new join token.
func (s *Server) removeHost(w http.ResponseWriter, r *http.Request) {
	if err := s.ops.RemoveHost(r.Context(), r.PathValue("name")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
