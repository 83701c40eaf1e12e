package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Glance's disk and container formats.
var (
	diskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	containerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker"}
)

// ImageCreate is what POST /v1/images takes (bare, as Glance, or wrapped as
// {"image":{...}}). ID is optional and must be a UUID; MinRAM is in MiB,
// MinDisk in GiB. Size and Checksum are read-only, as in Glance: the upload
// (PUT /v1/images/{id}/file) sets them; a request carrying them is refused.
type ImageCreate struct {
	ID              string            `json:"id,omitempty"`
	Name            string            `json:"name"`
	DiskFormat      string            `json:"disk_format"`
	ContainerFormat string            `json:"container_format"`
	Size            int64             `json:"size,omitempty"`
	Checksum        string            `json:"checksum,omitempty"`
	MinRAM          int               `json:"min_ram,omitempty"`
	MinDisk         int               `json:"min_disk,omitempty"`
	Properties      map[string]string `json:"properties,omitempty"`
}

// ImageResponse is the body of GET /v1/images/{id} and of a create.
type ImageResponse struct {
	Image fsm.Image `json:"image"`
}

// ImageList is the body of GET /v1/images.
type ImageList struct {
	Images []fsm.Image `json:"images"`
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	setIndex(w, s.state.Index())
	writeJSON(w, http.StatusOK, ImageList{Images: s.state.Images()})
}

func (s *Server) showImage(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	img, err := s.state.Image(r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ImageResponse{Image: img} })
}

func (s *Server) createImage(w http.ResponseWriter, r *http.Request) {
	var req ImageCreate
	err := decodeWrapped(w, r, "image", &req)
	var img fsm.Image
	if err == nil {
		img, err = req.image()
	}
	if err == nil {
		if existing, lookupErr := s.state.Image(img.ID); lookupErr == nil && existing.ID == img.ID {
			err = fmt.Errorf("%w: an image with ID %q already exists", fsm.ErrConflict, img.ID)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	img.Created = time.Now().UTC()
	img.Updated = img.Created
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateImage{Image: img}, "image", img.ID, s.state.Image)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/images/"+url.PathEscape(img.ID), ImageResponse{Image: created})
}

// image validates the request and builds the record to propose: queued
// until its data is uploaded.
func (req ImageCreate) image() (fsm.Image, error) {
	if err := validName("image name", req.Name); err != nil {
		return fsm.Image{}, err
	}
	if !slices.Contains(diskFormats, req.DiskFormat) {
		return fsm.Image{}, fmt.Errorf("%w: disk_format %q: use one of %s", fsm.ErrInvalid, truncate(req.DiskFormat), strings.Join(diskFormats, ", "))
	}
	if !slices.Contains(containerFormats, req.ContainerFormat) {
		return fsm.Image{}, fmt.Errorf("%w: container_format %q: use one of %s", fsm.ErrInvalid, truncate(req.ContainerFormat), strings.Join(containerFormats, ", "))
	}
	switch {
	case req.Size != 0 || req.Checksum != "":
		return fsm.Image{}, fmt.Errorf("%w: size and checksum are read-only: uploading the data (PUT /v1/images/{id}/file) sets them", fsm.ErrInvalid)
	case req.MinRAM < 0 || req.MinRAM > maxFlavorRAM:
		return fsm.Image{}, fmt.Errorf("%w: min_ram must be from 0 to %d MiB, got %d", fsm.ErrInvalid, maxFlavorRAM, req.MinRAM)
	case req.MinDisk < 0 || req.MinDisk > maxFlavorDisk:
		return fsm.Image{}, fmt.Errorf("%w: min_disk must be from 0 to %d GiB, got %d", fsm.ErrInvalid, maxFlavorDisk, req.MinDisk)
	}
	if err := validMetadata("image property", req.Properties); err != nil {
		return fsm.Image{}, err
	}
	id := uuid.NewString()
	if req.ID != "" {
		u, err := uuid.Parse(req.ID)
		if err != nil || u.String() != strings.ToLower(req.ID) {
			return fsm.Image{}, fmt.Errorf("%w: image id %q must be a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", fsm.ErrInvalid, truncate(req.ID))
		}
		id = u.String()
	}
	return fsm.Image{
		ID: id, Name: req.Name, DiskFormat: req.DiskFormat, ContainerFormat: req.ContainerFormat,
		Status: fsm.ImageQueued, MinRAM: req.MinRAM, MinDisk: req.MinDisk,
		Properties: req.Properties,
	}, nil
}

func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request) {
	img, err := s.state.Image(r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The FSM refuses too; checking here keeps a refused delete out of the log.
	if users := s.state.Instances(func(i *fsm.Instance) bool { return i.ImageID == img.ID }); len(users) > 0 {
		s.writeError(w, r, fmt.Errorf("%w: image %s is in use by %d server(s); delete them first", fsm.ErrConflict, img.ID, len(users)))
		return
	}
	s.commitDelete(w, r, nil, &fsm.DeleteImage{ID: img.ID})
}
