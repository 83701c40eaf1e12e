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
	err := onlyParams(q, "visibility", "consistent")
	want := q.Get("visibility")
	if err == nil && want != "" && !slices.Contains(imageVisibilities, want) {
		err = fmt.Errorf("%w: visibility %q: use one of %s", fsm.ErrInvalid, truncate(want), strings.Join(imageVisibilities, ", "))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	out := []imageView{}
	for _, img := range s.state.Images() {
		v := viewImage(img)
		if seesImage(p, img) && (want == "" || want == "all" || want == v.Visibility) {
			out = append(out, v)
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, struct {
		Images []imageView `json:"images"`
	}{out})
}

func (s *Server) showImage(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	img, err := s.imageFor(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return imageResponse(img) })
}

func (s *Server) createImage(w http.ResponseWriter, r *http.Request) {
	var req ImageCreate
	err := decodeWrapped(w, r, "image", &req)
	var img fsm.Image
	if err == nil {
		img, err = req.image()
	}
	p := Caller(r.Context())
	if err == nil && img.Visibility == fsm.ImagePublic && !p.Admin() {
		// Glance's publicize_image policy.
		err = fmt.Errorf("%w: you are not authorized to complete publicize_image action", fsm.ErrForbidden)
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
	img.ProjectID, img.UserID = p.ProjectID, p.UserID
	img.Created = time.Now().UTC()
	img.Updated = img.Created
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateImage{Image: img}, "image", img.ID, s.state.Image)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/images/"+url.PathEscape(img.ID), imageResponse(created))
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
	img, err := s.imageToChange(r.Context(), r.PathValue("id"))
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

// imageView is an image as Glance shows it: its project as owner (null for
// images made before identity) and always a visibility. Images made before
// identity show public, since every project sees them (fsm.Image.VisibleTo).
type imageView struct {
	fsm.Image
	Owner      *string `json:"owner"`
	Visibility string  `json:"visibility"`
}

func viewImage(img fsm.Image) imageView {
	v := imageView{Image: img, Visibility: img.Visibility}
	if img.ProjectID != "" {
		v.Owner = &img.ProjectID
	}
	switch {
	case img.ProjectID == "":
		v.Visibility = fsm.ImagePublic
	case v.Visibility == "":
		v.Visibility = fsm.ImagePrivate
	}
	return v
}

func imageResponse(img fsm.Image) any {
	return struct {
		Image imageView `json:"image"`
	}{viewImage(img)}
}
