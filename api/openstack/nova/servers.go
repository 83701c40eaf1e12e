package nova

import (
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Servers: show, update and delete one; the list is server_list.go, the
// create server_create.go, the actions actions*.go.

// serverResponse is the body of GET and PUT /servers/{id}.
type serverResponse struct {
	Server server `json:"server"`
}

// server is the server id names, when the caller may see it: a server of
// another project, or none, is Nova's 404 for the ID.
func (m *Module) server(r *http.Request) (api.ServerDetail, fsm.Instance, error) {
	id := r.PathValue("id")
	d, inst, err := m.ops.Server(r.Context(), id)
	return d, inst, instanceErr(id, err)
}

// instanceErr says a failed server lookup in Nova's words.
func instanceErr(id string, err error) error {
	if errors.Is(err, fsm.ErrNotFound) {
		return notFound("Instance %s could not be found.", id)
	}
	return err
}

func (m *Module) showServer(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	d, inst, err := m.server(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, serverResponse{Server: serverView(r, d, inst, m.detailOpts(r))})
}

// deleteServer answers 204 at once: the server goes away when its host has
// destroyed it (GET then says 404), as in Nova.
func (m *Module) deleteServer(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	idx, err := m.deleteOnce(r, id)
	if err != nil {
		m.fail(w, r, stateErr(r, m, id, "delete", instanceErr(id, err)))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
