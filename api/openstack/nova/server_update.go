package nova

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// PUT /servers/{id}: Nova's update at 2.1 takes name, the access addresses
// and OS-DCF:diskConfig (shoal's disks are always MANUAL: the value is
// checked and has nothing to change); 2.19 adds description, 2.90 hostname
// (2.94: a fully qualified one). The answer is
// 200 with the server's common view, addresses without their type and MAC,
// as Nova's below 2.75.

// updateKeys are the members of Nova's update schema at v.
func updateKeys(v osapi.Version) []string {
	keys := []string{"name", "OS-DCF:diskConfig", "accessIPv4", "accessIPv6"}
	if v.AtLeast(2, 19) {
		keys = append(keys, "description")
	}
	if v.AtLeast(2, 90) {
		keys = append(keys, "hostname")
	}
	return keys
}

func (m *Module) updateServer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	u, err := decodeUpdate(w, r)
	var idx uint64
	var d api.ServerDetail
	if err == nil {
		idx, d, err = m.ops.UpdateServer(r.Context(), id, u)
	}
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	_, inst, err := m.ops.Server(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	o := m.commonOpts(r)
	if osapi.Requested(r.Context()).AtLeast(2, 75) {
		// 2.75: PUT answers the server as GET shows it.
		o = m.detailOpts(r)
	}
	api.WriteJSON(w, http.StatusOK, serverResponse{Server: serverView(r, d, inst, o)})
}

// decodeUpdate checks the body as Nova's update schema does.
func decodeUpdate(w http.ResponseWriter, r *http.Request) (api.ServerUpdate, error) {
	var u api.ServerUpdate
	b, err := readObject(w, r)
	if err == nil {
		err = topKeys(b, "server")
	}
	var srv map[string]json.RawMessage
	if err == nil {
		srv, err = member(b, "server", updateKeys(osapi.Requested(r.Context()))...)
	}
	if err != nil {
		return u, err
	}
	for k, v := range srv {
		var s string
		switch k {
		case "name":
			s, err = name(k, v)
			u.Name = &s
		case "description":
			if !isNull(v) {
				s, err = boundedText(k, v, 0, 255)
			}
			u.Description = &s
		case "accessIPv4", "accessIPv6":
			s, err = address(k, v, k == "accessIPv6")
			if k == "accessIPv4" {
				u.AccessIPv4 = &s
			} else {
				u.AccessIPv6 = &s
			}
		case "hostname":
			s, err = hostname(k, v, osapi.Requested(r.Context()))
			u.Hostname = &s
		case "OS-DCF:diskConfig":
			_, err = enum(k, v, "AUTO", "MANUAL")
		}
		if err != nil {
			return u, err
		}
	}
	return u, nil
}
