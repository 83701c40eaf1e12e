package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

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
	// Visibility is Glance's: private (the default), public (an admin's
	// right) or shared.
	Visibility string `json:"visibility,omitempty"`
}

// ImageResponse is the body of GET /v1/images/{id} and of a create, as a
// client decodes it (the server adds Glance's owner: see imageView).
type ImageResponse struct {
	Image fsm.Image `json:"image"`
}

// ImageList is the body of GET /v1/images, as a client decodes it.
type ImageList struct {
	Images []fsm.Image `json:"images"`
}

// imageVisibilities are the values of the visibility filter of a listing.
var imageVisibilities = []string{fsm.ImagePrivate, fsm.ImagePublic, fsm.ImageShared, "all"}

// listImages shows what the caller sees (Glance): its project's images and
// the public ones; an admin sees all. visibility filters by one kind.
func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	var images []fsm.Image
	err := onlyParams(q, "visibility", "consistent")
	if err == nil {
		images, err = s.ops.Images(r.Context(), q.Get("visibility"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]imageView, 0, len(images))
	for _, img := range images {
		out = append(out, viewImage(img))
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, struct {
		Images []imageView `json:"images"`
	}{out})
}

func (s *Server) showImage(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	img, err := s.ops.Image(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return imageResponse(img) })
}

func (s *Server) createImage(w http.ResponseWriter, r *http.Request) {
	var req ImageCreate
	if err := decodeWrapped(w, r, "image", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, created, err := s.ops.CreateImage(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/images/"+url.PathEscape(created.ID), imageResponse(created))
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
	visibility := req.Visibility
	switch visibility {
	case "":
		visibility = fsm.ImagePrivate
	case fsm.ImagePrivate, fsm.ImagePublic, fsm.ImageShared:
	default:
		return fsm.Image{}, fmt.Errorf("%w: visibility %q: use private, public or shared", fsm.ErrInvalid, truncate(req.Visibility))
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
		Properties: req.Properties, Visibility: visibility,
	}, nil
}

func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteImage(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// imageView is an image as Glance shows it: its project as owner (null for
// images made before identity) and always a visibility. Images made before
// identity show public, since every project sees them (fsm.Image.VisibleTo).
type imageView struct {
	fsm.Image
	Owner      *string `json:"owner"`
	Visibility string  `json:"visibility"`
}

func viewImage(img fsm.Image) imageView {
	v := imageView{Image: img, Visibility: ImageVisibility(img)}
	if img.ProjectID != "" {
		v.Owner = &img.ProjectID
	}
	return v
}

func imageResponse(img fsm.Image) any {
	return struct {
		Image imageView `json:"image"`
	}{viewImage(img)}
}
