package nova

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// shoal has no host aggregates (its one grouping is the availability zone,
// a host attribute). The list answers empty because the CLI's "hypervisor
// show" asks it for the host's aggregates; the rest of os-aggregates is
// left unserved (404), as a missing feature, not faked.
func (m *Module) registerAggregates(r api.Router) {
	m.route(r, "GET /os-aggregates", api.AccessAdmin, m.listAggregates)
}

func (m *Module) listAggregates(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, map[string][]any{"aggregates": {}})
}
