package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// HeaderImageChecksum carries the hex sha256 of the image data a download
// streams (Glance sends an md5 in Content-MD5; shoal's checksums are sha256).
const HeaderImageChecksum = "X-Image-Checksum"

// internalImageFile is where other nodes fetch an image's data from this
// one, with their node certificate (compute/imagecache builds the same path).
const internalImageFile = "/internal/v1/images/{id}/file"

// DefaultMaxImageBytes bounds one upload unless Config.MaxImageBytes says otherwise.
const DefaultMaxImageBytes = int64(64) << 30

// uploadFormats are the disk formats whose data this node checks and stores.
var uploadFormats = []string{"qcow2", "raw"}

// Images is this node's store of image data, content-addressed by sha256.
// cmd adapts compute/imagecache's Cache to it.
type Images interface {
	// Put stores at most maxSize bytes of data of diskFormat (qcow2 or raw).
	// Data that is not what its format says, or that would be unsafe to give a
	// guest, is refused with an error wrapping fsm.ErrInvalid, and nothing is
	// stored. An error reading r comes back wrapped.
	Put(ctx context.Context, r io.Reader, diskFormat string, maxSize int64) (StoredImage, error)
	// Has reports whether this node holds the data with checksum.
	Has(checksum string) bool
	// Open opens the data with checksum; the error wraps fs.ErrNotExist when
	// this node holds none.
	Open(checksum string) (io.ReadCloser, int64, error)
}

// StoredImage is what Images.Put stored.
type StoredImage struct {
	Checksum string // hex sha256
	Size     int64
	Format   string
}

// uploadImage is Glance's second step: PUT /v1/images/{id}/file with the
// bytes. The data is checked and stored here, then this node is recorded
// as holding it, which makes a queued image active.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.maxImage)
	idx, _, err := s.ops.UploadImage(r.Context(), r.PathValue("id"), body, r.Header.Get("Content-Type"), r.ContentLength)
	s.writeNoContent(w, r, idx, err)
}

// uploadError says whose fault a failed upload is: data the store refused
// (400), a body over the limit (413), a body that stopped arriving (400),
// or this node (500).
func uploadError(err, readErr error) error {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: the limit is %d bytes", errTooLarge, tooLarge.Limit)
	case errors.Is(err, fsm.ErrInvalid):
		return err
	case readErr != nil && errors.Is(err, readErr):
		return fmt.Errorf("%w: reading image data: %v", fsm.ErrInvalid, readErr)
	}
	return fmt.Errorf("storing image data: %w", err)
}

// bodyReader remembers the error reading the request body, so a failed
// upload can be told apart from a failed disk.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// downloadImage streams this node's copy of an image's data, to a project
// reader (GET /v1/images/{id}/file) or to another node (the internal route);
// a node without one answers 404 (peers fetch only from the nodes in the
// image's locations). Range requests are served, so a broken download can
// resume.
func (s *Server) downloadImage(w http.ResponseWriter, r *http.Request) {
	if err := s.ops.ServeImageData(w, r, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
	}
}

func holders(img fsm.Image) string {
	if len(img.Locations) == 0 {
		return "no node"
	}
	return strings.Join(img.Locations, ", ")
}
