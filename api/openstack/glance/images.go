package glance

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// image finds the image the path names. Glance looks images up by ID only
// (the SDK's find relies on a name answering 404, then lists ?name=), while
// Ops also takes a name, so anything but the ID of an image the caller sees
// is Glance's 404.
func (m *Module) image(r *http.Request, id string) (fsm.Image, error) {
	if _, err := uuid.Parse(id); err != nil {
		return fsm.Image{}, imageNotFound(id)
	}
	img, err := m.ops.Image(r.Context(), id)
	if errors.Is(err, fsm.ErrNotFound) || err == nil && img.ID != id {
		return fsm.Image{}, imageNotFound(id)
	}
	return img, err
}

// withID turns an Ops not-found about the path's image into Glance's.
func withID(err error, id string) error {
	if errors.Is(err, fsm.ErrNotFound) {
		return imageNotFound(id)
	}
	return err
}

func (m *Module) listImages(w http.ResponseWriter, r *http.Request) {
	lq, err := parseList(r.URL.Query())
	lq.project = api.Caller(r.Context()).ProjectID
	var visible []fsm.Image
	if err == nil {
		visible, err = m.ops.Images(r.Context(), "")
	}
	var (
		page []shownImage
		next string
	)
	if err == nil {
		page, next, err = lq.page(visible)
	}
	if err != nil {
		writeError(w, 0, err)
		return
	}
	out := make([]map[string]any, len(page))
	for i, s := range page {
		out[i] = imageView(s.Image, s.owner, s.visibility)
	}
	body := map[string]any{"images": out, "schema": imagesSchemaPath}
	body["first"], body["next"] = lq.links(next)
	if next == "" {
		delete(body, "next")
	}
	api.SetIndex(w, m.ops.Index())
	api.WriteJSON(w, http.StatusOK, body)
}

func (m *Module) showImage(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	img, err := m.image(r, r.PathValue("id"))
	if err != nil {
		writeError(w, 0, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, view(img))
}

// view renders img for any caller who may see it.
func view(img fsm.Image) map[string]any {
	s := show(img)
	return imageView(s.Image, s.owner, s.visibility)
}

func (m *Module) createImage(w http.ResponseWriter, r *http.Request) {
	body, err := readJSON(w, r)
	var req imageCreate
	if err == nil {
		req, err = decodeCreate(body)
	}
	p := api.Caller(r.Context())
	switch {
	case err != nil:
	case req.Owner != nil && *req.Owner != p.ProjectID:
		// Glance lets an admin give the image away; Ops has no owner to
		// give, so nobody may here.
		err = forbidden("You are not permitted to create images owned by '%s'.", *req.Owner)
	case req.OSHidden:
		err = badRequest("os_hidden: hidden images are not supported")
	}
	if err != nil {
		writeError(w, 0, err)
		return
	}
	idx, img, err := m.ops.CreateImage(r.Context(), req.ImageCreate)
	if err != nil {
		writeError(w, 0, err)
		return
	}
	api.SetIndex(w, idx)
	w.Header().Set("Location", api.BaseURL(r)+prefix+imagesPath+"/"+img.ID)
	api.WriteJSON(w, http.StatusCreated, view(img))
}

func (m *Module) deleteImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := m.image(r, id); err != nil {
		writeError(w, 0, err)
		return
	}
	idx, err := m.ops.DeleteImage(r.Context(), id)
	if err != nil {
		writeError(w, 0, withID(err, id))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
