package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Image fields an ImageChange may name (Glance's PATCH paths without the
// slash). ImageFieldTag is one tag: add puts it in the set, remove takes it
// out (Glance's PUT and DELETE /images/{id}/tags/{tag}).
const (
	ImageFieldName       = "name"
	ImageFieldVisibility = "visibility"
	ImageFieldMinRAM     = "min_ram"
	ImageFieldMinDisk    = "min_disk"
	ImageFieldProtected  = "protected"
	ImageFieldTags       = "tags"
	ImageFieldTag        = "tag"
)

// Image change operations (JSON patch's, as Glance uses them).
const (
	ImageOpAdd     = "add"
	ImageOpReplace = "replace"
	ImageOpRemove  = "remove"
)

// ImageChange is one step of an image update. It names either a Field
// (ImageField*) or a Property (a key of Properties), never both, and
// carries the value that field takes: Value for name, visibility, a tag
// and a property; Number for min_ram and min_disk; Flag for protected;
// Tags for the whole tag set. Glance's rules: add and replace set a field;
// a field cannot be removed (403); add sets a property, replace and remove
// need it to be there (409).
type ImageChange struct {
	Op       string   `json:"op"`
	Field    string   `json:"field,omitempty"`
	Property string   `json:"property,omitempty"`
	Value    string   `json:"value,omitempty"`
	Number   int      `json:"number,omitempty"`
	Flag     bool     `json:"flag,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

// UpdateImage applies changes to an image in order, all or none (Glance's
// PATCH, and its tag calls). Who may make an image public is the API's
// policy, as at create.
type UpdateImage struct {
	ID      string        `json:"id"`
	Changes []ImageChange `json:"changes"`
	Time    time.Time     `json:"time"`
}

func (*UpdateImage) Type() Type { return TypeUpdateImage }

// reservedImageProperties are the names Glance shows an image's own fields
// under: its extra properties sit beside them in its view, so none may
// take one of these names.
var reservedImageProperties = []string{
	"checksum", "container_format", "created_at", "direct_url", "disk_format", "file", "id", "locations",
	"min_disk", "min_ram", "name", "os_hash_algo", "os_hash_value", "os_hidden", "owner", "protected",
	"schema", "self", "size", "status", "stores", "tags", "updated_at", "virtual_size", "visibility",
}

func applyUpdateImage(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateImage)
	if len(cmd.Changes) == 0 {
		return fmt.Errorf("%w: no changes to image %q", ErrInvalid, cmd.ID)
	}
	img, ok := s.Images[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, cmd.ID)
	}
	next, err := img.WithChanges(cmd.Changes)
	if err != nil {
		return err
	}
	next.Updated, next.ModifyIndex = cmd.Time, index
	*img = next
	return nil
}

// WithChanges is the image as changes would leave it, or the first
// change's error: Apply's rule, for the API to check before proposing.
// img itself does not change.
func (img *Image) WithChanges(changes []ImageChange) (Image, error) {
	next := *img
	next.Properties = maps.Clone(img.Properties)
	next.Tags = slices.Clone(img.Tags)
	for _, ch := range changes {
		if err := next.change(ch); err != nil {
			return Image{}, err
		}
	}
	if len(next.Properties) > MaxImageProperties {
		return Image{}, fmt.Errorf("%w: The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d",
			ErrInvalid, len(next.Properties), MaxImageProperties)
	}
	if len(next.Properties) == 0 {
		next.Properties = nil
	}
	if len(next.Tags) == 0 {
		next.Tags = nil
	}
	return next, nil
}

// change applies one step to img (a copy: the caller discards it when a
// later step fails).
func (img *Image) change(ch ImageChange) error {
	if ch.Op != ImageOpAdd && ch.Op != ImageOpReplace && ch.Op != ImageOpRemove {
		return fmt.Errorf("%w: image change op %q: use add, replace or remove", ErrInvalid, short(ch.Op))
	}
	if (ch.Field == "") == (ch.Property == "") {
		return fmt.Errorf("%w: an image change names a field or a property", ErrInvalid)
	}
	if ch.Property != "" {
		return img.changeProperty(ch)
	}
	if ch.Field == ImageFieldTag {
		return img.changeTag(ch)
	}
	if ch.Op == ImageOpRemove {
		return fmt.Errorf("%w: Property %s may not be removed.", ErrForbidden, short(ch.Field))
	}
	switch ch.Field {
	case ImageFieldName:
		if err := validName("image name", ch.Value); err != nil {
			return err
		}
		img.Name = ch.Value
	case ImageFieldVisibility:
		if !slices.Contains(ImageVisibilities, ch.Value) {
			return fmt.Errorf("%w: image visibility %q: use private, public, shared or community", ErrInvalid, short(ch.Value))
		}
		img.Visibility = ch.Value
	case ImageFieldMinRAM, ImageFieldMinDisk:
		if ch.Number < 0 {
			return fmt.Errorf("%w: image %s must not be negative", ErrInvalid, ch.Field)
		}
		if ch.Field == ImageFieldMinRAM {
			img.MinRAM = ch.Number
		} else {
			img.MinDisk = ch.Number
		}
	case ImageFieldProtected:
		img.Protected = ch.Flag
	case ImageFieldTags:
		tags, err := imageTags(ch.Tags)
		if err != nil {
			return err
		}
		img.Tags = tags
	default:
		return fmt.Errorf("%w: image field %q cannot be changed", ErrForbidden, short(ch.Field))
	}
	return nil
}

func (img *Image) changeProperty(ch ImageChange) error {
	key := ch.Property
	if slices.Contains(reservedImageProperties, key) {
		return fmt.Errorf("%w: Attribute '%s' is reserved.", ErrForbidden, key)
	}
	_, present := img.Properties[key]
	if ch.Op != ImageOpAdd && !present {
		return fmt.Errorf("%w: Property %s does not exist.", ErrConflict, short(key))
	}
	if ch.Op == ImageOpRemove {
		delete(img.Properties, key)
		return nil
	}
	if err := ValidMetadata("image property", map[string]string{key: ch.Value}); err != nil {
		return err
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	img.Properties[key] = ch.Value
	return nil
}

// changeTag adds one tag (already there: nothing changes) or removes one,
// which must be there.
func (img *Image) changeTag(ch ImageChange) error {
	at, found := slices.BinarySearch(img.Tags, ch.Value)
	switch ch.Op {
	case ImageOpRemove:
		if !found {
			return fmt.Errorf("%w: Tag %s not found", ErrNotFound, short(ch.Value))
		}
		img.Tags = slices.Delete(img.Tags, at, at+1)
	case ImageOpAdd:
		if found {
			return nil
		}
		if err := validImageTag(ch.Value); err != nil {
			return err
		}
		if len(img.Tags) >= MaxImageTags {
			return fmt.Errorf("%w: The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d",
				ErrInvalid, len(img.Tags)+1, MaxImageTags)
		}
		img.Tags = slices.Insert(img.Tags, at, ch.Value)
	default:
		return fmt.Errorf("%w: a tag is added or removed, not replaced", ErrInvalid)
	}
	return nil
}

// imageTags checks a tag set and returns it sorted without repeats (Glance
// keeps tags as a set: a tag given twice is there once).
func imageTags(tags []string) ([]string, error) {
	out := slices.Clone(tags)
	slices.Sort(out)
	out = slices.Compact(out)
	for _, t := range out {
		if err := validImageTag(t); err != nil {
			return nil, err
		}
	}
	if len(out) > MaxImageTags {
		return nil, fmt.Errorf("%w: The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d",
			ErrInvalid, len(out), MaxImageTags)
	}
	return out, nil
}

func validImageTag(t string) error { return validName("image tag", t) }

// validMD5 reports whether sum is a lower-case hex md5 (32 digits).
func validMD5(sum string) bool {
	if len(sum) != 32 {
		return false
	}
	for _, c := range []byte(sum) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
