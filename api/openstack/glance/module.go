package glance

import (
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// prefix is where the Image API lives on a node's port; the catalog's
// image endpoint is BaseURL+prefix, unversioned, as clients expect it
// (gophercloud appends v2/, keystoneauth discovers the versions there).
const prefix = "/image"

// Module is the Image API v2; cmd mounts it through api.Config.Modules.
type Module struct {
	ops *api.Ops
}

// New returns the module; Register gives it the Ops it serves with.
func New() *Module { return &Module{} }

// Prefix is the Image API's path prefix.
func (m *Module) Prefix() string { return prefix }

// Register adds every Image API route with Glance's default policy
// (glance/policies/image.py, its secure defaults): reading is a project
// reader's, changing and creating a member's, and so is downloading data
// (download_image); publicizing stays an admin's inside the calls.
func (m *Module) Register(r api.Router, ops *api.Ops) {
	m.ops = ops
	r.Route("GET /image", api.AccessPublic, listVersions)
	r.Route("GET /image/{$}", api.AccessPublic, listVersions)
	r.Route("GET /image/versions", api.AccessPublic, showVersions)

	r.Route("GET /image/v2/images", api.AccessProjectReader, m.listImages)
	r.Route("POST /image/v2/images", api.AccessProjectMember, m.createImage)
	r.Route("GET /image/v2/images/{id}", api.AccessProjectReader, m.showImage)
	r.Route("PATCH /image/v2/images/{id}", api.AccessProjectMember, m.updateImage)
	r.Route("DELETE /image/v2/images/{id}", api.AccessProjectMember, m.deleteImage)
	r.Route("PUT /image/v2/images/{id}/file", api.AccessProjectMember, m.uploadImage)
	r.Route("GET /image/v2/images/{id}/file", api.AccessProjectMember, m.downloadImage)
	r.Route("PUT /image/v2/images/{id}/tags/{tag}", api.AccessProjectMember, m.addTag)
	r.Route("DELETE /image/v2/images/{id}/tags/{tag}", api.AccessProjectMember, m.deleteTag)
	r.Route("GET /image/v2/schemas/image", api.AccessAuthenticated, showImageSchema)
	r.Route("GET /image/v2/schemas/images", api.AccessAuthenticated, showImagesSchema)
}

// WriteError answers err in Glance's dialect: webob's JSON error body.
func (m *Module) WriteError(w http.ResponseWriter, r *http.Request, status int, err error) {
	writeError(w, status, err)
}
