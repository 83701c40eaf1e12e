package fsm

import "time"

// Image statuses, as in Glance: an image is queued until its data is uploaded.
const (
	ImageQueued = "queued"
	ImageActive = "active"
)

// Image visibilities, as in Glance. Shared images have no member list yet:
// only their owner sees them. Community images every project may see and
// use, though Glance lists them only when asked (the API's filter).
const (
	ImagePrivate   = "private"
	ImagePublic    = "public"
	ImageShared    = "shared"
	ImageCommunity = "community"
)

// ImageVisibilities lists the visibilities an image may have.
var ImageVisibilities = []string{ImagePrivate, ImagePublic, ImageShared, ImageCommunity}

// VisibleTo reports whether a project may see and use the image: its own,
// public and community ones and those made before identity. This is the
// one home of the rule; the API filters with it.
func (img *Image) VisibleTo(projectID string) bool {
	return img.ProjectID == "" || img.Visibility == ImagePublic || img.Visibility == ImageCommunity || img.ProjectID == projectID
}

// Image is a disk image record (Glance's job, built in). Its data lives in the
// image caches of the nodes in Locations, content-addressed by Checksum.
type Image struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	DiskFormat      string `json:"disk_format"`
	ContainerFormat string `json:"container_format"`
	Size            int64  `json:"size"`
	Checksum        string `json:"checksum,omitempty"` // hex sha256 of the data
	// MD5 is the hex md5 of the data, which Glance shows as its checksum;
	// the node that takes the upload computes both in one pass. Images
	// uploaded before it have none.
	MD5        string            `json:"md5,omitempty"`
	Status     string            `json:"status"`    // queued|active
	Locations  []string          `json:"locations"` // nodes holding a verified copy, sorted
	MinRAM     int               `json:"min_ram"`
	MinDisk    int               `json:"min_disk"`
	Properties map[string]string `json:"properties,omitempty"`
	// Protected images cannot be deleted (Glance's 403) until an update
	// clears it. Tags are Glance's: a set, kept sorted.
	Protected bool     `json:"protected,omitempty"`
	Tags      []string `json:"tags,omitempty"`
	// ProjectID and UserID own the image; empty for images made before
	// identity, which every project sees (a cloud's base images).
	ProjectID  string    `json:"project_id,omitempty"`
	UserID     string    `json:"user_id,omitempty"`
	Visibility string    `json:"visibility,omitempty"` // Image* visibilities; private when owned and unset
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
	Indexes
}
