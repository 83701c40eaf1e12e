package nova

import (
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// /images/{id}/metadata[/{key}]: an image's extra properties as Nova's
// metadata, until 2.38 (Nova deprecated the proxy at 2.39). The body is
// checked first (400, Nova's metadata schema), then the image (404); the
// rules (metadata_items, who may change an image) are api.Ops'.

func (m *Module) registerImageMetadata(r api.Router) {
	reader, member := api.AccessProjectReader, api.AccessProjectMember
	until238 := osapi.Until(2, 38)
	m.route(r, "GET /images/{id}/metadata", reader, m.listImageMetadata, until238)
	m.route(r, "POST /images/{id}/metadata", member, m.mergeImageMetadata, until238)
	m.route(r, "PUT /images/{id}/metadata", member, m.replaceImageMetadata, until238)
	m.route(r, "GET /images/{id}/metadata/{key}", reader, m.showImageMetadatum, until238)
	m.route(r, "PUT /images/{id}/metadata/{key}", member, m.setImageMetadatum, until238)
	m.route(r, "DELETE /images/{id}/metadata/{key}", member, m.deleteImageMetadatum, until238)
}

// imageMetadataErr says a refused change in Nova's words: over
// metadata_items is its 403 "Image metadata limit exceeded", an image the
// caller may not change (or a property Glance reserves) its 403.
func imageMetadataErr(err error) error {
	var quota *fsm.QuotaError
	switch {
	case errors.As(err, &quota):
		return failure(http.StatusForbidden, "Image metadata limit exceeded")
	case errors.Is(err, fsm.ErrNotFound):
		return notFound("Image not found.")
	}
	return err
}

func (m *Module) listImageMetadata(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	img, err := m.image(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"metadata": imageDetail(r, img).Metadata})
}

func (m *Module) mergeImageMetadata(w http.ResponseWriter, r *http.Request) {
	m.setImageMetadata(w, r, false)
}

func (m *Module) replaceImageMetadata(w http.ResponseWriter, r *http.Request) {
	m.setImageMetadata(w, r, true)
}

// setImageMetadata answers the whole metadata after a merge (POST), the
// body's after a replace (PUT), as Nova does.
func (m *Module) setImageMetadata(w http.ResponseWriter, r *http.Request, replace bool) {
	md, err := decodeMetadata(w, r, "metadata")
	var img fsm.Image
	if err == nil {
		img, err = m.image(r, r.PathValue("id"))
	}
	var idx uint64
	var out map[string]string
	if err == nil {
		idx, out, err = m.ops.SetImageProperties(r.Context(), img.ID, md, replace)
	}
	if err != nil {
		m.fail(w, r, imageMetadataErr(err))
		return
	}
	if replace {
		out = md
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"metadata": out})
}

func (m *Module) showImageMetadatum(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	key := r.PathValue("key")
	img, err := m.image(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	v, ok := img.Properties[key]
	if !ok {
		m.fail(w, r, notFound("The resource could not be found."))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"meta": {key: v}})
}

// setImageMetadatum is PUT of one key: {"meta": {key: value}}, the path's
// key only.
func (m *Module) setImageMetadatum(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	b, err := readObject(w, r)
	if err == nil {
		err = topKeys(b, "meta")
	}
	var meta map[string]string
	if err == nil {
		meta, err = metadata("meta", b["meta"])
	}
	if err == nil {
		err = oneItem(b["meta"], meta, key)
	}
	var img fsm.Image
	if err == nil {
		img, err = m.image(r, r.PathValue("id"))
	}
	var idx uint64
	if err == nil {
		idx, _, err = m.ops.SetImageProperties(r.Context(), img.ID, meta, false)
	}
	if err != nil {
		m.fail(w, r, imageMetadataErr(err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"meta": meta})
}

// deleteImageMetadatum is 204; a key the image lacks is Nova's 404
// "Invalid metadata key".
func (m *Module) deleteImageMetadatum(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	img, err := m.image(r, r.PathValue("id"))
	if err == nil {
		if _, ok := img.Properties[key]; !ok {
			err = notFound("Invalid metadata key")
		}
	}
	var idx uint64
	if err == nil {
		idx, err = m.ops.DeleteImageProperty(r.Context(), img.ID, key)
	}
	if err != nil {
		m.fail(w, r, imageMetadataErr(err))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
