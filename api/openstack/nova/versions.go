package nova

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// Nova's version documents. keystoneauth reads them (unauthenticated) to
// discover the microversion range, and Tempest's TestVersions wants v2.0
// listed first with a self link it can follow. We serve v2.1 only, but
// list v2.0 as Nova does: its document is the legacy, microversion-less
// one (version and min_version "").

// Dates Nova gives its two API versions.
const (
	v20Updated = "2011-01-21T11:33:21Z"
	v21Updated = "2013-07-23T11:33:21Z"
)

// Version is one entry of Nova's version list, or the body of a version
// document (with MediaTypes and a describedby link).
type Version struct {
	ID         string       `json:"id"`
	Status     string       `json:"status"`
	Version    string       `json:"version"`
	MinVersion string       `json:"min_version"`
	Updated    string       `json:"updated"`
	Links      []osapi.Link `json:"links"`
	MediaTypes []MediaType  `json:"media-types,omitempty"`
}

// MediaType is an entry of a version document's media-types.
type MediaType struct {
	Base string `json:"base"`
	Type string `json:"type"`
}

func (m *Module) registerVersions(r api.Router) {
	list := withRequestID(m.listVersions)
	r.Route("GET "+prefix, api.AccessPublic, list)
	r.Route("GET "+prefix+"/{$}", api.AccessPublic, list)
	v20 := withRequestID(m.showV20)
	r.Route("GET "+prefix+"/v2", api.AccessPublic, v20)
	r.Route("GET "+prefix+"/v2/{$}", api.AccessPublic, v20)
	// The v2.1 document is microversioned in Nova (it answers with the
	// version headers, and 406 outside the range).
	r.Route("GET "+root, api.AccessPublic, withRequestID(m.negotiator.Wrap(m.showV21, osapi.NovaFault)))
	m.route(r, "GET /{$}", api.AccessPublic, m.showV21)
}

// versions are Nova's two: v2.0 (SUPPORTED, no microversions) first, then
// v2.1 (CURRENT) with our range. full adds what a single-version document
// carries.
func (m *Module) versions(r *http.Request, full bool) (v20, v21 Version) {
	base := api.BaseURL(r) + prefix
	v20 = Version{ID: "v2.0", Status: "SUPPORTED", Updated: v20Updated,
		Links: []osapi.Link{{Rel: "self", Href: base + "/v2/"}}}
	v21 = Version{ID: "v2.1", Status: "CURRENT", Version: MaxVersion, MinVersion: MinVersion, Updated: v21Updated,
		Links: []osapi.Link{{Rel: "self", Href: base + "/v2.1/"}}}
	if full {
		describedBy := osapi.Link{Rel: "describedby", Type: "text/html", Href: "http://docs.openstack.org/"}
		v20.Links = append(v20.Links, describedBy)
		v21.Links = append(v21.Links, describedBy)
		v20.MediaTypes = []MediaType{{Base: "application/json", Type: "application/vnd.openstack.compute+json;version=2"}}
		v21.MediaTypes = []MediaType{{Base: "application/json", Type: "application/vnd.openstack.compute+json;version=2.1"}}
	}
	return v20, v21
}

func (m *Module) listVersions(w http.ResponseWriter, r *http.Request) {
	v20, v21 := m.versions(r, false)
	api.WriteJSON(w, http.StatusOK, map[string][]Version{"versions": {v20, v21}})
}

func (m *Module) showV20(w http.ResponseWriter, r *http.Request) {
	v20, _ := m.versions(r, true)
	api.WriteJSON(w, http.StatusOK, map[string]Version{"version": v20})
}

func (m *Module) showV21(w http.ResponseWriter, r *http.Request) {
	_, v21 := m.versions(r, true)
	api.WriteJSON(w, http.StatusOK, map[string]Version{"version": v21})
}
