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

// DeleteImage removes an image record; refused while servers use it.
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
	case img.Visibility != "" && img.Visibility != ImagePrivate && img.Visibility != ImagePublic && img.Visibility != ImageShared:
		return fmt.Errorf("%w: image visibility %q: use private, public or shared", ErrInvalid, img.Visibility)
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
	if _, ok := s.Images[id]; !ok {
		return fmt.Errorf("%w: image %q", ErrNotFound, id)
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
	// A queued image, or one registered active without data, takes its
	// first upload's checksum and size: every later copy must match them.
	if img.Status == ImageQueued || img.Checksum == "" {
		img.Status, img.Size, img.Checksum = ImageActive, cmd.Size, cmd.Checksum
	} else if img.Size != cmd.Size {
		return fmt.Errorf("%w: image %s has %d bytes of data; node %s holds %d", ErrConflict, img.ID, img.Size, cmd.Node, cmd.Size)
	} else if slices.Contains(img.Locations, cmd.Node) {
		return nil // already recorded: a retried proposal changes nothing
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
