package fsm

import "time"

// Image statuses, as in Glance: an image is queued until its data is uploaded.
const (
	ImageQueued = "queued"
	ImageActive = "active"
)

// Image is a disk image record (Glance's job, built in). Its data lives in the
// image caches of the nodes in Locations, content-addressed by Checksum.
type Image struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	DiskFormat      string            `json:"disk_format"`
	ContainerFormat string            `json:"container_format"`
	Size            int64             `json:"size"`
	Checksum        string            `json:"checksum,omitempty"` // hex sha256 of the data
	Status          string            `json:"status"`             // queued|active
	Locations       []string          `json:"locations"`          // nodes holding a verified copy, sorted
	MinRAM          int               `json:"min_ram"`
	MinDisk         int               `json:"min_disk"`
	Properties      map[string]string `json:"properties,omitempty"`
	Created         time.Time         `json:"created"`
	Updated         time.Time         `json:"updated"`
	Indexes
}
