package nova

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-services: each shoal host is one nova-compute service. Below 2.53 a
// service's id is an integer, the host record's create index (stable and
// the same on every node); the disable/enable PUTs name it by host and
// binary.

// computeBinary is the one service binary shoal has.
const computeBinary = "nova-compute"

// Service is a service at 2.1 (forced_down from 2.11).
type Service struct {
	ID             any     `json:"id"` // the create index below 2.53, then a UUID
	Binary         string  `json:"binary"`
	Host           string  `json:"host"`
	Zone           string  `json:"zone"`
	Status         string  `json:"status"`
	State          string  `json:"state"`
	UpdatedAt      *string `json:"updated_at"`
	DisabledReason *string `json:"disabled_reason"`
	ForcedDown     *bool   `json:"forced_down,omitempty"`
}

// Below 2.53 PUT os-services/{action} names the service in its body; from
// 2.53 PUT and DELETE name it by its UUID in the path. One route carries
// both, as in Nova (so "enable" at 2.53 is Nova's "Invalid uuid enable").
func (m *Module) registerServices(r api.Router) {
	m.route(r, "GET /os-services", api.AccessAdmin, m.listServices)
	m.route(r, "PUT /os-services/{id}", api.AccessAdmin, m.updateService)
	m.route(r, "DELETE /os-services/{id}", api.AccessAdmin, m.deleteService)
}

// updateService is the legacy action below 2.53 (force-down from 2.11),
// else 2.53's update by UUID.
func (m *Module) updateService(w http.ResponseWriter, r *http.Request) {
	v := osapi.Requested(r.Context())
	if v.AtLeast(2, 53) {
		m.updateServiceByUUID(w, r)
		return
	}
	switch r.PathValue("id") {
	case "enable":
		m.setServiceEnabled(w, r, true, "")
	case "disable":
		m.setServiceEnabled(w, r, false, "")
	case "disable-log-reason":
		m.setServiceEnabled(w, r, false, "disabled_reason")
	case "force-down":
		if v.AtLeast(2, 11) {
			m.forceDownService(w, r)
			return
		}
		fallthrough
	default:
		m.fail(w, r, &fault{status: http.StatusNotFound, message: "Unknown action"})
	}
}

// zoneOf is a host's availability zone: Nova's default "nova" when the
// node names none.
func zoneOf(h fsm.Host) string {
	if h.InZone() == "" {
		return defaultZone
	}
	return h.InZone()
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (m *Module) serviceView(r *http.Request, h api.Host) Service {
	var id any = h.CreateIndex
	if osapi.Requested(r.Context()).AtLeast(2, 53) {
		id = m.serviceUUID(h.Name)
	}
	s := Service{ID: id, Binary: computeBinary, Host: h.Name, Zone: zoneOf(h.Host),
		Status: h.Status, State: h.State, UpdatedAt: nullable(naiveTime(h.Updated)), DisabledReason: nullable(h.DisabledReason)}
	if osapi.Requested(r.Context()).AtLeast(2, 11) {
		down := h.ForcedDown
		s.ForcedDown = &down
	}
	return s
}

// listServices filters by host and binary; other query parameters are
// ignored below 2.75 and refused from it, as Nova.
func (m *Module) listServices(w http.ResponseWriter, r *http.Request) {
	if err := onlyQuerySince(r, 2, 75, "host", "binary"); err != nil {
		m.fail(w, r, err)
		return
	}
	hosts, err := m.ops.Hosts(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	out := []Service{}
	for _, h := range hosts {
		if q.Has("host") && q.Get("host") != h.Name || q.Has("binary") && q.Get("binary") != computeBinary {
			continue
		}
		out = append(out, m.serviceView(r, h))
	}
	api.WriteJSON(w, http.StatusOK, map[string][]Service{"services": out})
}

// serviceRequest is the body of the legacy PUTs: {host, binary} plus the
// field named by extra (disabled_reason, forced_down), when given.
func serviceRequest(w http.ResponseWriter, r *http.Request, extra string) (host string, value json.RawMessage, err error) {
	body, err := readObject(w, r)
	if err != nil {
		return "", nil, err
	}
	allowed := []string{"host", "binary"}
	if extra != "" {
		allowed = append(allowed, extra)
	}
	if err := onlyKeys("", body, allowed...); err != nil {
		return "", nil, err
	}
	if err := required("", body, "host", "binary"); err != nil {
		return "", nil, err
	}
	if host, err = stringField("host", body["host"]); err != nil {
		return "", nil, err
	}
	binary, err := stringField("binary", body["binary"])
	if err != nil {
		return "", nil, err
	}
	if binary != computeBinary {
		return "", nil, hostBinaryNotFound(host, binary)
	}
	return host, body[extra], nil
}

func hostBinaryNotFound(host, binary string) error {
	return fmt.Errorf("%w: Could not find binary %s on host %s.", fsm.ErrNotFound, binary, host)
}

// hostFor maps the API's "no such host" to Nova's message for the pair.
func hostFor(err error, host string) error {
	if err != nil && api.StatusOf(err) == http.StatusNotFound {
		return hostBinaryNotFound(host, computeBinary)
	}
	return err
}

// setServiceEnabled answers Nova's {"service":{host, binary, status}},
// with disabled_reason when the request gave one.
func (m *Module) setServiceEnabled(w http.ResponseWriter, r *http.Request, on bool, extra string) {
	host, raw, err := serviceRequest(w, r, extra)
	reason := ""
	if err == nil && extra != "" {
		if raw == nil {
			err = badRequest("Missing disabled reason field")
		} else if reason, err = stringField(extra, raw); err == nil && (reason == "" || len(reason) > 255) {
			err = invalidInput(extra, raw, "It must be 1 to 255 characters long")
		}
	}
	var h api.Host
	if err == nil {
		_, h, err = m.ops.SetHostEnabled(r.Context(), host, on, reason)
		err = hostFor(err, host)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := map[string]any{"host": h.Name, "binary": computeBinary, "status": h.Status}
	if extra != "" {
		out["disabled_reason"] = h.DisabledReason
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"service": out})
}

// forceDownService is 2.11's PUT os-services/force-down.
func (m *Module) forceDownService(w http.ResponseWriter, r *http.Request) {
	host, raw, err := serviceRequest(w, r, "forced_down")
	down := false
	if err == nil {
		if raw == nil {
			err = badRequest("Missing forced_down field")
		} else {
			down, err = boolField("forced_down", raw)
		}
	}
	var h api.Host
	if err == nil {
		_, h, err = m.ops.ForceHostDown(r.Context(), host, down)
		err = hostFor(err, host)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"service": map[string]any{
		"host": h.Name, "binary": computeBinary, "forced_down": h.ForcedDown}})
}
