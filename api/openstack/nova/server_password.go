package nova

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// GET/DELETE /servers/{id}/os-server-password: the password a guest posts
// to the metadata service (encrypted with the server's key). shoal's
// metadata service keeps none, so it is "" (Nova's answer for a server
// that never posted one) and clearing it has nothing to do.

func (m *Module) showServerPassword(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	if _, _, err := m.server(r); err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]string{"password": ""})
}

func (m *Module) clearServerPassword(w http.ResponseWriter, r *http.Request) {
	if _, _, err := m.server(r); err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
