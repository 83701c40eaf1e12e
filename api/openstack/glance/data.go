package glance

import (
	"mime"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// uploadImage is PUT /v2/images/{id}/file: octet-stream only (Glance
// refuses a missing Content-Type too), then Ops.UploadImage, which keeps
// /v1's rules (the formats it stores, the size limit, one upload per
// image) and records the MD5 Glance shows as checksum.
func (m *Module) uploadImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := m.image(r, id); err != nil {
		writeError(w, 0, err)
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/octet-stream" {
		if ct == "" {
			ct = "None"
		}
		writeError(w, 0, errMediaTypef("Invalid content type %s", ct))
		return
	}
	idx, _, err := m.ops.UploadImage(r.Context(), id, r.Body, ct, r.ContentLength)
	if err != nil {
		writeError(w, 0, withID(err, id))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// downloadImage is GET /v2/images/{id}/file: 204 while the image has no
// data (Glance's answer), else the bytes as /v1 serves them (Range
// included; Ops adds Glance's Content-MD5).
func (m *Module) downloadImage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	img, err := m.image(r, id)
	if err != nil {
		writeError(w, 0, err)
		return
	}
	if img.Checksum == "" || img.Status != fsm.ImageActive {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := m.ops.ServeImageData(w, r, id); err != nil {
		writeError(w, 0, withID(err, id))
	}
}
