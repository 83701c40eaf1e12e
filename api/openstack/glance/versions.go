package glance

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// versionIDs are the Image API versions this module answers, newest first
// as Glance lists them. Each minor after 2.0 added something a client finds
// out about before using it (members, tasks, metadefs, the import methods
// header and /v2/info/import), or, in 2.7, fields this module renders
// (os_hidden, os_hash_algo, os_hash_value). 2.8 and later are about
// multiple stores and the image cache, which a client may use unasked
// (GET /v2/info/stores, the cache routes), so they are not listed.
var versionIDs = []string{"v2.7", "v2.6", "v2.5", "v2.4", "v2.3", "v2.2", "v2.1", "v2.0"}

// version is one entry of Glance's versions document.
type version struct {
	ID     string       `json:"id"`
	Status string       `json:"status"`
	Links  []osapi.Link `json:"links"`
}

// versions builds the document; every entry's self link is the one v2 root.
func versions(r *http.Request) map[string][]version {
	self := api.BaseURL(r) + prefix + "/v2/"
	out := make([]version, 0, len(versionIDs))
	for i, id := range versionIDs {
		status := "SUPPORTED"
		if i == 0 {
			status = "CURRENT"
		}
		out = append(out, version{ID: id, Status: status, Links: []osapi.Link{{Rel: "self", Href: self}}})
	}
	return map[string][]version{"versions": out}
}

// listVersions answers the unversioned root with 300 Multiple Choices, as
// Glance's version negotiation does (keystoneauth reads the body whatever
// the status).
func listVersions(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusMultipleChoices, versions(r))
}

// showVersions answers GET /versions, the explicit ask, with 200.
func showVersions(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, versions(r))
}
