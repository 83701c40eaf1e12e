package nova

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// /images: Nova's proxy over Glance, here over shoal's images (api.Ops),
// until 2.35 (404 from 2.36, as Nova). Images are named by ID only (Nova
// asks Glance by ID). A list is Glance's default order, newest first, with
// Nova's filters (name, status, changes-since, server, type, minRam,
// minDisk, property-*) and paging. The metadata calls (images_metadata.go)
// last until 2.38.

// ImageSummary is an image in GET /images.
type ImageSummary struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Links []osapi.Link `json:"links"`
}

// ImageDetail is an image in GET /images/detail and /images/{id}.
type ImageDetail struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	MinRAM     int               `json:"minRam"`
	MinDisk    int               `json:"minDisk"`
	Metadata   map[string]string `json:"metadata"`
	Created    string            `json:"created"`
	Updated    string            `json:"updated"`
	Status     string            `json:"status"`
	Progress   int               `json:"progress"`
	Size       int64             `json:"OS-EXT-IMG-SIZE:size"`
	Links      []osapi.Link      `json:"links"`
	Server     *ImageServer      `json:"server,omitempty"`
	DiskConfig string            `json:"OS-DCF:diskConfig,omitempty"`
}

// ImageServer is the server a snapshot was made from.
type ImageServer struct {
	ID    string       `json:"id"`
	Links []osapi.Link `json:"links"`
}

func (m *Module) registerImages(r api.Router) {
	reader, member := api.AccessProjectReader, api.AccessProjectMember
	m.route(r, "GET /images", reader, m.listImages, until235)
	m.route(r, "GET /images/detail", reader, m.listImagesDetail, until235)
	m.route(r, "GET /images/{id}", reader, m.showImage, until235)
	m.route(r, "DELETE /images/{id}", member, m.deleteImage, until235)
	m.registerImageMetadata(r)
}

// imageLinks are Nova's self, bookmark and Glance's alternate link.
func imageLinks(r *http.Request, id string) []osapi.Link {
	l := links(r, "/images/"+id)
	return append(l, osapi.Link{Rel: "alternate", Type: "application/vnd.openstack.image",
		Href: api.BaseURL(r) + "/image/images/" + id})
}

// imageStatus is Nova's status and progress for a Glance status.
func imageStatus(status string) (string, int) {
	switch status {
	case fsm.ImageActive:
		return "ACTIVE", 100
	case fsm.ImageQueued:
		return "SAVING", 25
	case "saving":
		return "SAVING", 50
	case "deleted", "pending_delete":
		return "DELETED", 0
	case "killed":
		return "ERROR", 0
	}
	return "UNKNOWN", 0
}

func imageDetail(r *http.Request, img fsm.Image) ImageDetail {
	status, progress := imageStatus(img.Status)
	md := map[string]string{}
	for k, v := range img.Properties {
		md[k] = v
	}
	d := ImageDetail{ID: img.ID, Name: img.Name, MinRAM: img.MinRAM, MinDisk: img.MinDisk, Metadata: md,
		Created: osapi.Time(img.Created), Updated: osapi.Time(cmp.Or(img.Updated, img.Created)), Status: status,
		Progress: progress, Size: img.Size, Links: imageLinks(r, img.ID)}
	if server, ok := md["instance_uuid"]; ok {
		d.Server = &ImageServer{ID: server, Links: links(r, "/servers/"+server)}
	}
	if v, ok := md["auto_disk_config"]; ok {
		d.DiskConfig = "MANUAL"
		if b, _ := parseBool(v); b {
			d.DiskConfig = "AUTO"
		}
	}
	return d
}

// image is the image with ID id the caller sees: anything else is Nova's
// 404 "Image not found.".
func (m *Module) image(r *http.Request, id string) (fsm.Image, error) {
	if _, err := uuid.Parse(id); err != nil {
		return fsm.Image{}, notFound("Image not found.")
	}
	img, err := m.ops.Image(r.Context(), id)
	if errors.Is(err, fsm.ErrNotFound) || err == nil && img.ID != id {
		return img, notFound("Image not found.")
	}
	return img, err
}

func (m *Module) showImage(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	img, err := m.image(r, r.PathValue("id"))
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]ImageDetail{"image": imageDetail(r, img)})
}

// deleteImage is 204; an image the caller may not delete (another
// project's, or protected) is Nova's 403.
func (m *Module) deleteImage(w http.ResponseWriter, r *http.Request) {
	img, err := m.image(r, r.PathValue("id"))
	var idx uint64
	if err == nil {
		idx, err = m.ops.DeleteImage(r.Context(), img.ID)
	}
	switch {
	case errors.Is(err, fsm.ErrForbidden):
		err = failure(http.StatusForbidden, "You are not allowed to delete the image.")
	case errors.Is(err, fsm.ErrNotFound):
		err = notFound("Image not found.")
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

func (m *Module) listImages(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	page, next, err := m.imagePage(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]ImageSummary, 0, len(page))
	for _, img := range page {
		out = append(out, ImageSummary{ID: img.ID, Name: img.Name, Links: imageLinks(r, img.ID)})
	}
	body := map[string]any{"images": out}
	if next != "" {
		body["images_links"] = nextLink(r, "/images", next)
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, body)
}

func (m *Module) listImagesDetail(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	page, next, err := m.imagePage(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]ImageDetail, 0, len(page))
	for _, img := range page {
		out = append(out, imageDetail(r, img))
	}
	body := map[string]any{"images": out}
	if next != "" {
		body["images_links"] = nextLink(r, "/images/detail", next)
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, body)
}

// imagePage is the page of images the query asks for: filtered, newest
// first (Glance's default), after the marker, at most limit.
func (m *Module) imagePage(r *http.Request) ([]fsm.Image, string, error) {
	q := r.URL.Query()
	keep, err := imageFilter(q)
	if err != nil {
		return nil, "", err
	}
	limit, marker, _, err := page(q)
	if err == nil && q.Has("limit") && limit == 0 {
		err = badRequest("limit param must be positive")
	}
	var all []fsm.Image
	if err == nil {
		all, err = m.ops.Images(r.Context(), "")
	}
	if err != nil {
		return nil, "", err
	}
	slices.SortFunc(all, func(a, b fsm.Image) int {
		return cmp.Or(b.Created.Compare(a.Created), strings.Compare(b.ID, a.ID))
	})
	visible := all[:0]
	for _, img := range all {
		if keep(img) {
			visible = append(visible, img)
		}
	}
	return pageOf(visible, limit, marker, func(img fsm.Image) string { return img.ID })
}

// imageFilter is Nova's image filters as one test; changes-since that is
// not a time is Nova's (Glance's) 400.
func imageFilter(q url.Values) (func(fsm.Image) bool, error) {
	var tests []func(fsm.Image) bool
	prop := func(key, want string) func(fsm.Image) bool {
		return func(img fsm.Image) bool { v, ok := img.Properties[key]; return ok && v == want }
	}
	for key, values := range q {
		v := values[len(values)-1]
		switch key {
		case "name":
			tests = append(tests, func(img fsm.Image) bool { return img.Name == v })
		case "status":
			tests = append(tests, func(img fsm.Image) bool { return img.Status == strings.ToLower(v) })
		case "changes-since":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t, err = time.Parse("2006-01-02T15:04:05", v)
			}
			if err != nil {
				return nil, badRequest("Invalid changes-since value")
			}
			tests = append(tests, func(img fsm.Image) bool { return !cmp.Or(img.Updated, img.Created).Before(t) })
		case "server":
			id := v
			if i := strings.LastIndex(v, "/"); i >= 0 {
				id = v[i+1:]
			}
			tests = append(tests, prop("instance_uuid", id))
		case "type":
			tests = append(tests, prop("image_type", v))
		case "minRam", "minDisk":
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, badRequest("Invalid %s value", key)
			}
			ram := key == "minRam"
			tests = append(tests, func(img fsm.Image) bool {
				if ram {
					return img.MinRAM == n
				}
				return img.MinDisk == n
			})
		default:
			if p, ok := strings.CutPrefix(key, "property-"); ok {
				tests = append(tests, prop(p, v))
			}
		}
	}
	return func(img fsm.Image) bool {
		for _, t := range tests {
			if !t(img) {
				return false
			}
		}
		return true
	}, nil
}
