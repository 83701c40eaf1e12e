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
	m.changeTag(w, r, opAdd)
}

// deleteTag is DELETE /v2/images/{id}/tags/{tag}: 204, or 404 when the
// image has no such tag.
func (m *Module) deleteTag(w http.ResponseWriter, r *http.Request) {
	m.changeTag(w, r, opRemove)
}

// changeTag answers with Glance's tag controller's messages, which differ
// from the image routes' ("Image X not found.").
func (m *Module) changeTag(w http.ResponseWriter, r *http.Request, op string) {
	id, tag := r.PathValue("id"), r.PathValue("tag")
	img, err := m.image(r, id)
	if err != nil {
		writeError(w, 0, tagError(err, id, op))
		return
	}
	has := slices.Contains(imageTags(img), tag)
	switch {
	case op == opAdd:
		err = checkValue("tags", []any{tag})
	case !has:
		err = errNoTag
	}
	if err != nil {
		writeError(w, 0, err)
		return
	}
	idx := m.ops.Index()
	if op == opRemove || !has {
		idx, _, err = updateImage(m.ops, r.Context(), id, []imageChange{{Op: op, Field: fieldTag, Value: tag}})
		if err != nil {
			writeError(w, 0, tagError(err, id, op))
			return
		}
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

func tagError(err error, id, op string) error {
	verb := map[string]string{opAdd: "update", opRemove: "delete"}[op]
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return fmt.Errorf("%w: Image %s not found.", fsm.ErrNotFound, id)
	case errors.Is(err, fsm.ErrForbidden):
		return fmt.Errorf("%w: Not allowed to %s tags for image %s.", fsm.ErrForbidden, verb, id)
	case errors.Is(err, fsm.ErrInvalid) && op == opAdd:
		return fmt.Errorf("%w: Could not update image: %s", fsm.ErrInvalid, message(err))
	}
	return err
}

// errNoTag is webob's bare 404, Glance's answer to deleting a tag the
// image doesn't have.
var errNoTag = fmt.Errorf("%w: The resource could not be found.", fsm.ErrNotFound)
