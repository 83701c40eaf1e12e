package nova

import (
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Extension is an entry of Nova's legacy extension list: v2.1 has no
// extensions, but Nova still answers /extensions with a static list, and
// older clients (and Tempest) read it.
type Extension struct {
	Name        string `json:"name"`
	Alias       string `json:"alias"`
	Description string `json:"description"`
	Namespace   string `json:"namespace"`
	Updated     string `json:"updated"`
	Links       []any  `json:"links"`
}

// Nova's fixed values for every entry (its extension_info.py).
const (
	extensionNamespace = "http://docs.openstack.org/compute/ext/fake_xml"
	extensionUpdated   = "2014-12-03T00:00:00Z"
)

func (m *Module) registerExtensions(r api.Router) {
	m.route(r, "GET /extensions", api.AccessAuthenticated, m.listExtensions)
	m.route(r, "GET /extensions/{alias}", api.AccessAuthenticated, m.showExtension)
}

func extensionView(i int) Extension {
	e := extensions[i]
	return Extension{Name: e.name, Alias: e.alias, Description: e.description,
		Namespace: extensionNamespace, Updated: extensionUpdated, Links: []any{}}
}

func (m *Module) listExtensions(w http.ResponseWriter, r *http.Request) {
	out := make([]Extension, len(extensions))
	for i := range extensions {
		out[i] = extensionView(i)
	}
	api.WriteJSON(w, http.StatusOK, map[string][]Extension{"extensions": out})
}

func (m *Module) showExtension(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("alias")
	for i, e := range extensions {
		if e.alias == alias {
			api.WriteJSON(w, http.StatusOK, map[string]Extension{"extension": extensionView(i)})
			return
		}
	}
	m.fail(w, r, fmt.Errorf("%w: The resource could not be found.", fsm.ErrNotFound))
}
