package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

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
	up := s.upHosts()
	hosts := []Host{}
	for _, h := range s.state.Hosts() {
		hosts = append(hosts, hostView(h, up))
	}
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
	s.applyHostChange(w, r, h.Name, &fsm.SetHostEnabled{Name: h.Name, Enabled: enabled, Reason: reason, Time: time.Now().UTC()})
}

// applyHostChange commits a change to one host and answers with the host.
func (s *Server) applyHostChange(w http.ResponseWriter, r *http.Request, name string, c fsm.Command) {
	idx, h, err := applyRead(s, r.Context(), c, "host", name, s.state.Host)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, HostResponse{Host: hostView(h, s.upHosts())})
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
	h, err := s.state.Host(r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.applyHostChange(w, r, h.Name, &fsm.ForceHostDown{Name: h.Name, ForcedDown: req.ForcedDown, Time: time.Now().UTC()})
}

// evacuateHost evacuates every server of a host that is down (Nova's host
// evacuate); refused while the host is up.
func (s *Server) evacuateHost(w http.ResponseWriter, r *http.Request) {
	var req HostEvacuate
	err := decodeOptional(w, r, &req)
	var h fsm.Host
	if err == nil {
		h, err = s.state.Host(r.PathValue("name"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	cmd := &fsm.EvacuateInstances{TargetHost: req.Host, RequestID: RequestID(r.Context()), UserID: p.UserID, ProjectID: p.ProjectID,
		Time: time.Now().UTC()}
	for _, inst := range s.state.Instances(func(i *fsm.Instance) bool { return i.Host == h.Name && i.TaskState != fsm.TaskDeleting }) {
		cmd.IDs = append(cmd.IDs, inst.ID)
	}
	if len(cmd.IDs) == 0 {
		s.writeError(w, r, fmt.Errorf("%w: host %s has no servers to evacuate", fsm.ErrConflict, h.Name))
		return
	}
	idx, out, err := s.applyToServers(r.Context(), cmd, cmd.IDs)
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
	h, err := s.state.Host(r.PathValue("name"))
	if err == nil {
		err = s.cluster.RemoveHost(r.Context(), h.Name)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	s.log.Info("api: host removed", "host", h.Name, "user", p.UserName, "project", p.ProjectName)
	w.WriteHeader(http.StatusNoContent)
}
