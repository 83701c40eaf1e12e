package nova

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// GET /servers/{id}/ips and /ips/{network}: a server's addresses by
// network, fixed then floating, each only {version, addr} (the OS-EXT-IPS
// fields are the server views').

func (m *Module) listIPs(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	d, _, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"addresses": addresses(d, false)})
}

func (m *Module) showIPs(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	d, _, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	network := r.PathValue("network")
	ips, ok := addresses(d, false)[network]
	if !ok {
		m.fail(w, r, notFound("Instance is not a member of specified network"))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]serverAddress{network: ips})
}
