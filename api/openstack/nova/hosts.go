package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// os-hosts, Nova's deprecated host API (gone at 2.43): each shoal host is
// one compute service. Its status update is the services' enable/disable;
// maintenance mode and startup/shutdown/reboot are 501, as Nova's libvirt
// driver answers.

// HostEntry is an entry of the os-hosts list.
type HostEntry struct {
	Name    string `json:"host_name"`
	Service string `json:"service"`
	Zone    string `json:"zone"`
}

// hostStatusValues are the values Nova's schema takes for status and
// maintenance_mode.
var hostStatusValues = []string{"enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"}

func (m *Module) registerHosts(r api.Router) {
	legacy := osapi.Until(2, 42)
	m.route(r, "GET /os-hosts", api.AccessAdmin, m.listHosts, legacy)
	m.route(r, "GET /os-hosts/{name}", api.AccessAdmin, m.showHost, legacy)
	m.route(r, "PUT /os-hosts/{name}", api.AccessAdmin, m.updateHost, legacy)
	for _, action := range []string{"startup", "shutdown", "reboot"} {
		m.route(r, "GET /os-hosts/{name}/"+action, api.AccessAdmin, m.hostPowerAction, legacy)
	}
}

// listHosts lists the enabled hosts (Nova lists the services that are not
// disabled), of one zone when ?zone= names one.
func (m *Module) listHosts(w http.ResponseWriter, r *http.Request) {
	hosts, err := m.ops.Hosts(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	zone := r.URL.Query().Get("zone")
	out := []HostEntry{}
	for _, h := range hosts {
		if h.Enabled && (zone == "" || zoneOf(h.Host) == zone) {
			out = append(out, HostEntry{Name: h.Name, Service: "compute", Zone: zoneOf(h.Host)})
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string][]HostEntry{"hosts": out})
}

func (m *Module) showHost(w http.ResponseWriter, r *http.Request) {
	lines, err := m.ops.HostResources(r.Context(), r.PathValue("name"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]map[string]api.HostResource, len(lines))
	for i, l := range lines {
		out[i] = map[string]api.HostResource{"resource": l}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"host": out})
}

// updateHost takes Nova's flat body {"status": ..., "maintenance_mode":
// ...}. Maintenance mode is refused (501) before anything changes, where
// Nova would have applied the status first.
func (m *Module) updateHost(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	body, err := readObject(w, r)
	if err == nil {
		err = onlyKeys("", body, "status", "maintenance_mode")
	}
	values := map[string]string{}
	for _, k := range []string{"status", "maintenance_mode"} {
		raw, ok := body[k]
		if !ok || err != nil {
			continue
		}
		var s string
		if s, err = stringField(k, raw); err == nil && !slices.Contains(hostStatusValues, s) {
			err = invalidInput(k, raw, fmt.Sprintf("'%s' is not one of ['%s']", s, strings.Join(hostStatusValues, "', '")))
		}
		values[k] = strings.ToLower(s)
	}
	if err == nil && len(values) == 0 {
		err = invalidInput("", nil, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(rawOf(body))))
	}
	if err == nil {
		if _, ok := values["maintenance_mode"]; ok {
			err = m.ops.HostUnsupportedAction(r.Context(), name)
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	status, err := m.ops.SetHostStatus(r.Context(), name, values["status"] == "enable")
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]string{"host": name, "status": status})
}

// hostPowerAction is startup, shutdown and reboot: 404 for an unknown host,
// else 501.
func (m *Module) hostPowerAction(w http.ResponseWriter, r *http.Request) {
	m.fail(w, r, m.ops.HostUnsupportedAction(r.Context(), r.PathValue("name")))
}

// rawOf is obj as JSON again, for a message that quotes it.
func rawOf(obj map[string]json.RawMessage) json.RawMessage {
	raw, _ := json.Marshal(obj)
	return raw
}
