package api

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Image updates: Glance's PATCH (a JSON patch of add, replace and remove
// steps on /name, /visibility, /min_ram, /min_disk, /protected, /tags and
// extra properties, whose keys may hold ':' and '.') and its one-tag calls.
// The steps go to fsm.UpdateImage in order, all or none.

// ImagePatchMediaType is Glance's media type for a PATCH body; /v1 takes
// application/json too.
const ImagePatchMediaType = "application/openstack-images-v2.1-json-patch"

// ImagePatchOp is one step of a JSON patch, as it comes.
type ImagePatchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value,omitempty"`
}

// readOnlyImageFields are Glance's image fields a patch may not touch
// (Glance's 403 "Attribute 'x' is read-only."); shoal adds the formats and
// the owner, which it does not let change.
var readOnlyImageFields = []string{
	"checksum", "container_format", "created_at", "direct_url", "disk_format", "file", "id", "locations",
	"os_hash_algo", "os_hash_value", "os_hidden", "owner", "schema", "self", "size", "status", "stores",
	"updated_at", "virtual_size",
}

// imageFields are the fields a patch may set (fsm.ImageField*).
var imageFields = []string{fsm.ImageFieldName, fsm.ImageFieldVisibility, fsm.ImageFieldMinRAM,
	fsm.ImageFieldMinDisk, fsm.ImageFieldProtected, fsm.ImageFieldTags}

// ImageChanges turns a JSON patch into the steps of an fsm.UpdateImage,
// each value decoded as its path wants it (a string, an integer of 0 or
// more, a boolean, a list of strings; a property's value is a string). An
// op other than add, replace or remove, a malformed path or value is 400;
// a read-only field is 403.
func ImageChanges(ops []ImagePatchOp) ([]fsm.ImageChange, error) {
	out := make([]fsm.ImageChange, 0, len(ops))
	for _, op := range ops {
		ch, err := imageChange(op)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

func imageChange(op ImagePatchOp) (fsm.ImageChange, error) {
	ch := fsm.ImageChange{Op: op.Op}
	switch op.Op {
	case fsm.ImageOpAdd, fsm.ImageOpReplace, fsm.ImageOpRemove:
	default:
		return ch, fmt.Errorf("%w: Invalid operation: `%s`: it must be one of add, replace, remove", fsm.ErrInvalid, truncate(op.Op))
	}
	name, err := patchPath(op.Path)
	if err != nil {
		return ch, err
	}
	if slices.Contains(readOnlyImageFields, name) {
		return ch, fmt.Errorf("%w: Attribute '%s' is read-only.", fsm.ErrForbidden, name)
	}
	hasValue := len(op.Value) > 0
	if op.Op == fsm.ImageOpRemove {
		if hasValue {
			return ch, fmt.Errorf("%w: a remove takes no value", fsm.ErrInvalid)
		}
	} else if !hasValue {
		return ch, fmt.Errorf("%w: Operation objects must contain exactly one member named \"value\".", fsm.ErrInvalid)
	}
	if !slices.Contains(imageFields, name) {
		ch.Property = name
		if hasValue {
			err = patchValue(op.Value, &ch.Value, name, "a string")
		}
		return ch, err
	}
	ch.Field = name
	if !hasValue {
		return ch, nil
	}
	switch name {
	case fsm.ImageFieldName, fsm.ImageFieldVisibility:
		err = patchValue(op.Value, &ch.Value, name, "a string")
	case fsm.ImageFieldMinRAM, fsm.ImageFieldMinDisk:
		err = patchValue(op.Value, &ch.Number, name, "an integer")
		if err == nil && ch.Number < 0 {
			err = fmt.Errorf("%w: %s must be 0 or more", fsm.ErrInvalid, name)
		}
	case fsm.ImageFieldProtected:
		err = patchValue(op.Value, &ch.Flag, name, "a boolean")
	case fsm.ImageFieldTags:
		err = patchValue(op.Value, &ch.Tags, name, "a list of strings")
	}
	return ch, err
}

// patchPath is the one key a JSON pointer names ("/a~1b" is "a/b"): Glance
// patches one level of the image.
func patchPath(path string) (string, error) {
	if !strings.HasPrefix(path, "/") || strings.Count(path, "/") != 1 || len(path) == 1 {
		return "", fmt.Errorf("%w: Invalid JSON pointer for this resource: '%s'", fsm.ErrInvalid, truncate(path))
	}
	name := strings.NewReplacer("~1", "/", "~0", "~").Replace(path[1:])
	return name, validText("path", name, maxMetaKeyLen)
}

func patchValue(raw json.RawMessage, into any, name, kind string) error {
	if err := decodeStrict(raw, into); err != nil || string(raw) == "null" {
		return fmt.Errorf("%w: the value of %s must be %s", fsm.ErrInvalid, truncate(name), kind)
	}
	return nil
}

// UpdateImage applies changes to an image the caller may change (another
// project's it sees is 403, one it does not see 404), in order, all or
// none, and returns the image as applied; no changes answer it as it is.
// Making an image public is an admin's (Glance's publicize_image).
func (o *Ops) UpdateImage(ctx context.Context, ref string, changes []fsm.ImageChange) (uint64, fsm.Image, error) {
	img, err := o.s.imageToChange(ctx, ref)
	if err != nil {
		return 0, img, err
	}
	for _, ch := range changes {
		if ch.Field == fsm.ImageFieldVisibility && ch.Value == fsm.ImagePublic && ch.Op != fsm.ImageOpRemove && !Caller(ctx).Admin() {
			return 0, img, fmt.Errorf("%w: you are not authorized to complete publicize_image action", fsm.ErrForbidden)
		}
	}
	if len(changes) == 0 {
		img.Visibility = ImageVisibility(img)
		return o.s.state.Index(), img, nil
	}
	if _, err := img.WithChanges(changes); err != nil {
		return 0, img, err
	}
	idx, img, err := applyRead(o.s, ctx, &fsm.UpdateImage{ID: img.ID, Changes: changes, Time: time.Now().UTC()},
		"image", img.ID, o.s.state.Image)
	if err == nil {
		img.Visibility = ImageVisibility(img)
	}
	return idx, img, err
}

// AddImageTag puts a tag on an image the caller may change (already
// there: nothing changes but the time), as Glance's PUT …/tags/{tag}.
func (o *Ops) AddImageTag(ctx context.Context, ref, tag string) (uint64, error) {
	idx, _, err := o.UpdateImage(ctx, ref, []fsm.ImageChange{{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTag, Value: tag}})
	return idx, err
}

// DeleteImageTag takes a tag off an image the caller may change; one it
// does not have is 404.
func (o *Ops) DeleteImageTag(ctx context.Context, ref, tag string) (uint64, error) {
	img, err := o.s.imageToChange(ctx, ref)
	if err != nil {
		return 0, err
	}
	if !slices.Contains(img.Tags, tag) {
		return 0, fmt.Errorf("%w: Tag %s not found", fsm.ErrNotFound, truncate(tag))
	}
	idx, _, err := o.UpdateImage(ctx, img.ID, []fsm.ImageChange{{Op: fsm.ImageOpRemove, Field: fsm.ImageFieldTag, Value: tag}})
	return idx, err
}

// The /v1 routes of the above.
func (s *Server) imageUpdateRoutes() {
	s.route("PATCH /v1/images/{id}", AccessProjectMember, s.patchImage)
	s.route("PUT /v1/images/{id}/tags/{tag}", AccessProjectMember, s.addImageTag)
	s.route("DELETE /v1/images/{id}/tags/{tag}", AccessProjectMember, s.deleteImageTag)
}

// patchImage is PATCH /v1/images/{id} with a JSON patch (a list of
// {"op","path","value"}) as application/json or Glance's media type (or
// none, as the other /v1 bodies); it answers the image.
func (s *Server) patchImage(w http.ResponseWriter, r *http.Request) {
	var ops []ImagePatchOp
	var err error
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, perr := mime.ParseMediaType(ct); perr != nil || mt != "application/json" && mt != ImagePatchMediaType {
			err = fmt.Errorf("%w: send a JSON patch as %s or application/json", errMediaType, ImagePatchMediaType)
		}
	}
	if err == nil {
		err = decodeBody(w, r, &ops)
	}
	var changes []fsm.ImageChange
	if err == nil {
		changes, err = ImageChanges(ops)
	}
	var idx uint64
	var img fsm.Image
	if err == nil {
		idx, img, err = s.ops.UpdateImage(r.Context(), r.PathValue("id"), changes)
	}
	s.writeFound(w, r, idx, err, func() any { return imageResponse(img) })
}

func (s *Server) addImageTag(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.AddImageTag(r.Context(), r.PathValue("id"), r.PathValue("tag"))
	s.writeNoContent(w, r, idx, err)
}

func (s *Server) deleteImageTag(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteImageTag(r.Context(), r.PathValue("id"), r.PathValue("tag"))
	s.writeNoContent(w, r, idx, err)
}
