package glance

import (
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// acceptPatch is the Accept-Patch header of Glance's 415 to a PATCH.
var acceptPatch = strings.Join([]string{patchV20, patchV21}, ", ")

// updateImage is Glance's PATCH: the media type (415), the body (400/403),
// whether the caller may change the image (403), then every operation
// checked against the image as read, so a refused one changes nothing and
// proposes nothing; the accepted ones go to the FSM as one update, which
// checks them again against the image then.
func (m *Module) updateImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	draft, ok := patchDraft(r)
	if !ok {
		w.Header().Set("Accept-Patch", acceptPatch)
		writeError(w, 0, mediaTypeError(r))
		return
	}
	img, err := m.image(r, id)
	var body any
	if err == nil {
		body, err = readJSON(w, r)
	}
	var changes []change
	if err == nil {
		changes, err = decodePatch(body, draft)
	}
	if err == nil {
		// No changes: only whether the caller may change the image (403
		// for another project's public one), which Glance asks first.
		_, img, err = m.ops.UpdateImage(r.Context(), id, nil)
	}
	var steps []fsm.ImageChange
	if err == nil {
		steps, err = imageChanges(img, changes, api.Caller(r.Context()).Admin())
	}
	if err != nil {
		writeError(w, 0, err)
		return
	}
	idx := m.ops.Index()
	if len(steps) > 0 {
		idx, img, err = m.ops.UpdateImage(r.Context(), id, steps)
		if err != nil {
			writeError(w, 0, withID(err, id))
			return
		}
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, view(img))
}

// mediaTypeError is webob's 415 text.
func mediaTypeError(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return errMediaTypef("The request media type is not supported by this server.")
	}
	return errMediaTypef("The request media type %s is not supported by this server.", ct)
}

// imageChanges maps Glance's operations onto fsm's image changes, with
// Glance's answers for what shoal's images don't have (locations, hidden
// images, a new owner, other formats once queued) and for what the image
// as read already refuses (a property to replace that isn't there). An
// operation that changes nothing (os_hidden false) becomes no step.
func imageChanges(img fsm.Image, changes []change, admin bool) ([]fsm.ImageChange, error) {
	var steps []fsm.ImageChange
	props := make(map[string]bool, len(img.Properties))
	for k := range img.Properties {
		props[k] = true
	}
	for _, c := range changes {
		root := c.path[0]
		s, _ := c.value.(string)
		step := fsm.ImageChange{Op: c.op}
		if c.op == "remove" && baseKeys[root] && root != "locations" {
			return nil, forbidden("Property %s may not be removed.", root)
		}
		if c.op == "add" && c.draft == 4 && root != "locations" && (baseKeys[root] || props[root]) {
			return nil, conflict("Property %s already present.", root)
		}
		switch root {
		case "locations":
			verb := map[string]string{"add": "add", "replace": "update", "remove": "remove"}[c.op]
			return nil, forbidden("It's not allowed to %s locations if locations are invisible.", verb)
		case "owner":
			if !admin {
				return nil, forbidden("Owner can't be updated by non admin.")
			}
			if c.value == nil || s != img.ProjectID {
				return nil, forbidden("An image's owner cannot be changed here.")
			}
			continue
		case "os_hidden":
			if c.value.(bool) {
				return nil, badRequest("os_hidden: hidden images are not supported")
			}
			continue
		case "disk_format", "container_format":
			current := img.DiskFormat
			if root == "container_format" {
				current = img.ContainerFormat
			}
			if c.value != nil && s == current {
				continue
			}
			if img.Status != fsm.ImageQueued {
				return nil, forbidden("Attribute %s can be only replaced for a queued image.", root)
			}
			return nil, badRequest("%s cannot be changed once the image is created; create a new image", root)
		case "name", "visibility":
			step.Field, step.Value = root, s
		case "min_ram", "min_disk":
			step.Field = root
			step.Number, _ = integer(c.value)
			if step.Number < 0 {
				return nil, badRequest("Invalid value '%d' for parameter '%s': Cannot be a negative value", step.Number, root)
			}
		case "protected":
			step.Field, step.Flag = root, c.value.(bool)
		case "tags":
			step.Field, step.Tags = root, uniqueStrings(c.value.([]any))
		default:
			if c.op != "add" && !props[root] {
				return nil, conflict("Property %s does not exist.", root)
			}
			props[root] = c.op != "remove"
			step.Property, step.Value = root, s
		}
		steps = append(steps, step)
	}
	return steps, nil
}
