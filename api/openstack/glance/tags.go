package glance

import (
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// addTag is PUT /v2/images/{id}/tags/{tag}: 204, also when the image has
// the tag already (then nothing is proposed).
func (m *Module) addTag(w http.ResponseWriter, r *http.Request) {
	m.changeTag(w, r, fsm.ImageOpAdd)
}

// deleteTag is DELETE /v2/images/{id}/tags/{tag}: 204, or 404 when the
// image has no such tag.
func (m *Module) deleteTag(w http.ResponseWriter, r *http.Request) {
	m.changeTag(w, r, fsm.ImageOpRemove)
}

// changeTag answers with Glance's tag controller's messages, which differ
// from the image routes' ("Image X not found.").
func (m *Module) changeTag(w http.ResponseWriter, r *http.Request, op string) {
	id, tag := r.PathValue("id"), r.PathValue("tag")
	img, err := m.image(r, id)
	if err == nil {
		_, img, err = m.ops.UpdateImage(r.Context(), id, nil) // may the caller change it?
	}
	if err != nil {
		writeError(w, 0, tagError(err, id, op))
		return
	}
	has := slices.Contains(img.Tags, tag)
	switch {
	case op == fsm.ImageOpAdd:
		err = checkValue("tags", []any{tag})
	case !has:
		err = errNoTag
	}
	if err != nil {
		writeError(w, 0, err)
		return
	}
	idx := m.ops.Index()
	if op == fsm.ImageOpRemove || !has {
		idx, _, err = m.ops.UpdateImage(r.Context(), id, []fsm.ImageChange{{Op: op, Field: fsm.ImageFieldTag, Value: tag}})
		if err != nil {
			writeError(w, 0, tagError(err, id, op))
			return
		}
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

func tagError(err error, id, op string) error {
	verb := map[string]string{fsm.ImageOpAdd: "update", fsm.ImageOpRemove: "delete"}[op]
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return fmt.Errorf("%w: Image %s not found.", fsm.ErrNotFound, id)
	case errors.Is(err, fsm.ErrForbidden):
		return fmt.Errorf("%w: Not allowed to %s tags for image %s.", fsm.ErrForbidden, verb, id)
	case errors.Is(err, fsm.ErrInvalid) && op == fsm.ImageOpAdd:
		return fmt.Errorf("%w: Could not update image: %s", fsm.ErrInvalid, message(err))
	}
	return err
}

// errNoTag is webob's bare 404, Glance's answer to deleting a tag the
// image doesn't have.
var errNoTag = fmt.Errorf("%w: The resource could not be found.", fsm.ErrNotFound)
