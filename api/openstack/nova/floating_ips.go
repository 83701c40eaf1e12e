package nova

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-floating-ips and os-floating-ip-pools: Nova's proxy over Neutron's
// floating IPs, here over shoal's (api.Ops). A pool is an external
// network, named by its name (else its ID). Both end at 2.35 (404 from
// 2.36, as Nova); the server actions addFloatingIp and removeFloatingIp
// (actions.go) end at 2.43.

// until235 is the range of Nova's network and image proxy APIs
// (MAX_PROXY_API_SUPPORT_VERSION).
var until235 = osapi.Until(2, 35)

// FloatingIP is Nova's view of a floating IP.
type FloatingIP struct {
	ID         string  `json:"id"`
	IP         string  `json:"ip"`
	FixedIP    *string `json:"fixed_ip"`
	InstanceID *string `json:"instance_id"`
	Pool       string  `json:"pool"`
}

// FloatingIPPool is one entry of os-floating-ip-pools.
type FloatingIPPool struct {
	Name string `json:"name"`
}

func (m *Module) registerFloatingIPs(r api.Router) {
	reader, member := api.AccessProjectReader, api.AccessProjectMember
	m.route(r, "GET /os-floating-ips", reader, m.listFloatingIPs, until235)
	m.route(r, "POST /os-floating-ips", member, m.createFloatingIP, until235)
	m.route(r, "GET /os-floating-ips/{id}", reader, m.showFloatingIP, until235)
	m.route(r, "DELETE /os-floating-ips/{id}", member, m.deleteFloatingIP, until235)
	m.route(r, "GET /os-floating-ip-pools", reader, m.listFloatingIPPools, until235)
}

// poolNames maps the external networks' IDs to their pool names.
func (m *Module) poolNames(r *http.Request) (map[string]string, error) {
	nets, err := m.ops.Networks(r.Context())
	out := map[string]string{}
	for _, n := range nets {
		out[n.ID] = poolName(n)
	}
	return out, err
}

// poolName is what Nova calls a network as a pool: its name, else its ID.
func poolName(n api.Network) string {
	if n.Name != "" {
		return n.Name
	}
	return n.ID
}

func floatingIPView(f api.FloatingIP, pools map[string]string) FloatingIP {
	v := FloatingIP{ID: f.ID, IP: f.IP, Pool: pools[f.Network]}
	if v.Pool == "" {
		v.Pool = f.Network
	}
	if f.ServerID != "" {
		server, fixed := f.ServerID, f.FixedIP
		v.InstanceID, v.FixedIP = &server, &fixed
	}
	return v
}

func (m *Module) writeFloatingIP(w http.ResponseWriter, r *http.Request, idx uint64, f api.FloatingIP) {
	pools, err := m.poolNames(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]FloatingIP{"floating_ip": floatingIPView(f, pools)})
}

// listFloatingIPs is the caller's project's floating IPs (an admin's
// too: Nova lists by the token's project).
func (m *Module) listFloatingIPs(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	fips, err := m.ops.FloatingIPs(r.Context(), api.Scope{})
	var pools map[string]string
	if err == nil {
		pools, err = m.poolNames(r)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]FloatingIP, 0, len(fips))
	for _, f := range fips {
		out = append(out, floatingIPView(f, pools))
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]FloatingIP{"floating_ips": out})
}

// floatingIP is the floating IP with ID id (an address is no ID here: Nova
// asks Neutron by ID).
func (m *Module) floatingIP(r *http.Request, id string) (api.FloatingIP, error) {
	f, err := m.ops.FloatingIP(r.Context(), id)
	if errors.Is(err, fsm.ErrNotFound) || errors.Is(err, fsm.ErrInvalid) || err == nil && f.ID != id {
		return f, notFound("Floating IP not found for ID %s", id)
	}
	return f, err
}

func (m *Module) showFloatingIP(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	f, err := m.floatingIP(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	m.writeFloatingIP(w, r, idx, f)
}

// createFloatingIP takes no body, null, or {"pool": name-or-ID|null}
// (Nova's schema lets other keys through); no pool is the default one.
func (m *Module) createFloatingIP(w http.ResponseWriter, r *http.Request) {
	pool, err := decodePool(w, r)
	var n api.Network
	if err == nil {
		n, err = m.pool(r, pool)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	idx, f, err := m.ops.AllocateFloatingIP(r.Context(), api.FloatingIPCreate{Network: n.ID})
	var quota *fsm.QuotaError
	switch {
	case err == nil:
	case errors.As(err, &quota) && pool != "":
		err = failure(http.StatusForbidden, "IP allocation over quota in pool %s.", pool)
	case errors.As(err, &quota):
		err = failure(http.StatusForbidden, "IP allocation over quota.")
	case errors.Is(err, fsm.ErrConflict) && pool != "":
		err = notFound("No more floating IPs in pool %s.", pool)
	case errors.Is(err, fsm.ErrConflict):
		err = notFound("No more floating IPs available.")
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	m.writeFloatingIP(w, r, idx, f)
}

// decodePool reads the optional body of a floating IP create.
func decodePool(w http.ResponseWriter, r *http.Request) (string, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return "", &fault{status: http.StatusRequestEntityTooLarge, message: "Request is too large."}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "", nil
	}
	var body map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&body); err != nil || dec.More() {
		return "", badRequest("Malformed request body")
	}
	raw, ok := body["pool"]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	return stringField("pool", raw)
}

// pool is the external network a pool names (by ID, its Nova/Neutron ID,
// or its name); "" is the default pool. Anything else is Nova's 404.
func (m *Module) pool(r *http.Request, pool string) (api.Network, error) {
	ctx := r.Context()
	var n api.Network
	var err error
	if pool == "" {
		n, err = m.ops.DefaultFloatingPool(ctx)
	} else {
		n, err = m.ops.Network(ctx, pool)
	}
	if errors.Is(err, fsm.ErrNotFound) || errors.Is(err, fsm.ErrInvalid) || err == nil && !n.External {
		return n, notFound("Floating IP pool not found.")
	}
	if errors.Is(err, fsm.ErrConflict) {
		return n, failure(http.StatusInternalServerError, "Multiple floating IP pools matches found for name '%s'", pool)
	}
	return n, err
}

// deleteFloatingIP releases a floating IP, detaching it first: 202.
func (m *Module) deleteFloatingIP(w http.ResponseWriter, r *http.Request) {
	f, err := m.floatingIP(r, r.PathValue("id"))
	var idx uint64
	if err == nil {
		idx, err = m.ops.ReleaseFloatingIP(r.Context(), f.ID)
	}
	if errors.Is(err, fsm.ErrNotFound) {
		err = notFound("Floating IP not found for ID %s", f.ID)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusAccepted)
}

// listFloatingIPPools is the external networks, by name.
func (m *Module) listFloatingIPPools(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	nets, err := m.ops.Networks(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := []FloatingIPPool{}
	for _, n := range nets {
		if n.External {
			out = append(out, FloatingIPPool{Name: poolName(n)})
		}
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string][]FloatingIPPool{"floating_ip_pools": out})
}

// errGone is Nova's answer to the nova-network APIs it removed: 410 with
// webob's explanation, in a computeFault.
var errGone = &fault{status: http.StatusGone, message: "This resource is no longer available.  No forwarding address is given."}

// gone answers every request with errGone.
func (m *Module) gone(w http.ResponseWriter, r *http.Request) { m.fail(w, r, errGone) }
