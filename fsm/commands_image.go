package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// CreateImage registers image metadata; the proposing node stamps ID and times.
// The API registers images queued (Glance's first step); an active record
// without data is still accepted, for tests and for images registered before
// uploads existed.
type CreateImage struct {
	Image Image `json:"image"`
}

// DeleteImage removes an image record; refused for a protected image
// (Glance's 403) and while servers use it.
type DeleteImage struct {
	ID string `json:"id"`
}

// ImageUploaded records that Node holds a verified copy of the image's data:
// after an upload to that node (queued → active) or after the node fetched
// the data from a peer (one more location).
type ImageUploaded struct {
	ID       string `json:"id"`
	Node     string `json:"node"`
	Size     int64  `json:"size"`
	Checksum string `json:"checksum"` // hex sha256 of the data
	// MD5 is the hex md5 of the same data, computed in the same pass; a
	// node that has none to give (a peer's copy) leaves it empty.
	MD5 string `json:"md5,omitempty"`
	// DiskFormat is the format the node verified the data as; when set it
	// must be the record's.
	DiskFormat string    `json:"disk_format,omitempty"`
	Time       time.Time `json:"time"`
}

// RemoveImageLocation records that Node no longer holds the image's data.
// Removing a location that is not listed changes nothing.
type RemoveImageLocation struct {
	ID   string    `json:"id"`
	Node string    `json:"node"`
	Time time.Time `json:"time"`
}

func (*CreateImage) Type() Type         { return TypeCreateImage }
func (*DeleteImage) Type() Type         { return TypeDeleteImage }
func (*ImageUploaded) Type() Type       { return TypeImageUploaded }
func (*RemoveImageLocation) Type() Type { return TypeRemoveImageLocation }

func applyCreateImage(s *State, index uint64, c Command) error {
	img := c.(*CreateImage).Image
	switch {
	case img.ID == "" || img.Name == "":
		return fmt.Errorf("%w: an image needs an ID and a name", ErrInvalid)
	case img.Size < 0 || img.MinRAM < 0 || img.MinDisk < 0:
		return fmt.Errorf("%w: image sizes must not be negative", ErrInvalid)
	case img.Status != ImageQueued && img.Status != ImageActive:
		return fmt.Errorf("%w: image status must be queued or active", ErrInvalid)
	case img.Visibility != "" && !slices.Contains(ImageVisibilities, img.Visibility):
		return fmt.Errorf("%w: image visibility %q: use private, public, shared or community", ErrInvalid, img.Visibility)
	case img.MD5 != "" && !validMD5(img.MD5):
		return fmt.Errorf("%w: md5 must be a lower-case hex md5 (32 digits)", ErrInvalid)
	case len(img.Properties) > MaxImageProperties:
		return fmt.Errorf("%w: The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d",
			ErrInvalid, len(img.Properties), MaxImageProperties)
	}
	if err := ValidMetadata("image property", img.Properties); err != nil {
		return err
	}
	tags, err := imageTags(img.Tags)
	if err != nil {
		return err
	}
	img.Tags = tags
	if len(img.Tags) == 0 {
		img.Tags = nil
	}
	if img.Visibility == "" && img.ProjectID != "" {
		img.Visibility = ImagePrivate
	}
	if _, ok := s.Images[img.ID]; ok {
		return fmt.Errorf("%w: image ID %q already exists", ErrConflict, img.ID)
	}
	img.Properties = maps.Clone(img.Properties)
	// Locations only come from nodes that verified the data.
	img.Locations = nil
	img.CreateIndex, img.ModifyIndex = index, index
	s.Images[img.ID] = &img
	return nil
}

func applyDeleteImage(s *State, _ uint64, c Command) error {
	id := c.(*DeleteImage).ID
	img, ok := s.Images[id]
	if !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, id)
	}
	if img.Protected {
		return fmt.Errorf("%w: Image %s is protected and cannot be deleted.", ErrForbidden, id)
	}
	users := 0
	for _, i := range s.Instances {
		if i.ImageID == id {
			users++
		}
	}
	if users > 0 {
		return fmt.Errorf("%w: image %s is in use by %d server(s); delete them first", ErrConflict, id, users)
	}
	delete(s.Images, id)
	return nil
}

func applyImageUploaded(s *State, index uint64, c Command) error {
	cmd := c.(*ImageUploaded)
	switch {
	case cmd.ID == "" || cmd.Node == "":
		return fmt.Errorf("%w: an image upload needs an image ID and a node", ErrInvalid)
	case !ValidChecksum(cmd.Checksum):
		return fmt.Errorf("%w: checksum must be a lower-case hex sha256 (64 digits)", ErrInvalid)
	case cmd.Size < 0:
		return fmt.Errorf("%w: image size must not be negative", ErrInvalid)
	case cmd.MD5 != "" && !validMD5(cmd.MD5):
		return fmt.Errorf("%w: md5 must be a lower-case hex md5 (32 digits)", ErrInvalid)
	}
	img, ok := s.Images[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, cmd.ID)
	}
	if cmd.DiskFormat != "" && cmd.DiskFormat != img.DiskFormat {
		return fmt.Errorf("%w: image %s is %s, but node %s verified its data as %s", ErrConflict, img.ID, img.DiskFormat, cmd.Node, cmd.DiskFormat)
	}
	if img.Checksum != "" && img.Checksum != cmd.Checksum {
		return fmt.Errorf("%w: image %s has data with sha256 %s; node %s holds data with sha256 %s", ErrConflict, img.ID, img.Checksum, cmd.Node, cmd.Checksum)
	}
	if img.MD5 != "" && cmd.MD5 != "" && img.MD5 != cmd.MD5 && img.Status != ImageQueued {
		return fmt.Errorf("%w: image %s has data with md5 %s; node %s holds data with md5 %s", ErrConflict, img.ID, img.MD5, cmd.Node, cmd.MD5)
	}
	// A queued image, or one registered active without data, takes its
	// first upload's checksum and size: every later copy must match them.
	// The md5 goes with the first upload; a record of data uploaded before
	// md5s were kept gets one from the first node that gives it.
	if img.Status == ImageQueued || img.Checksum == "" {
		img.Status, img.Size, img.Checksum, img.MD5 = ImageActive, cmd.Size, cmd.Checksum, cmd.MD5
	} else if img.Size != cmd.Size {
		return fmt.Errorf("%w: image %s has %d bytes of data; node %s holds %d", ErrConflict, img.ID, img.Size, cmd.Node, cmd.Size)
	} else if slices.Contains(img.Locations, cmd.Node) {
		if img.MD5 != "" || cmd.MD5 == "" {
			return nil // already recorded: a retried proposal changes nothing
		}
		img.MD5, img.Updated, img.ModifyIndex = cmd.MD5, cmd.Time, index
		return nil
	} else if img.MD5 == "" {
		img.MD5 = cmd.MD5
	}
	at, _ := slices.BinarySearch(img.Locations, cmd.Node)
	img.Locations = slices.Insert(slices.Clone(img.Locations), at, cmd.Node)
	img.Updated = cmd.Time
	img.ModifyIndex = index
	return nil
}

func applyRemoveImageLocation(s *State, index uint64, c Command) error {
	cmd := c.(*RemoveImageLocation)
	if cmd.ID == "" || cmd.Node == "" {
		return fmt.Errorf("%w: removing an image location needs an image ID and a node", ErrInvalid)
	}
	img, ok := s.Images[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, cmd.ID)
	}
	at, found := slices.BinarySearch(img.Locations, cmd.Node)
	if !found {
		return nil
	}
	img.Locations = slices.Delete(slices.Clone(img.Locations), at, at+1)
	img.Updated = cmd.Time
	img.ModifyIndex = index
	return nil
}

// ValidChecksum reports whether sum is a lower-case hex sha256, the form image
// checksums are stored in.
func ValidChecksum(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	for _, c := range []byte(sum) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
