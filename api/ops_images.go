package api

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Images are the images the caller sees (Glance's rule: its project's,
// the public ones, those made before identity; an admin all), of one
// visibility unless it is "" or "all". Each comes with the visibility it
// is shown with (ImageVisibility).
func (o *Ops) Images(ctx context.Context, visibility string) ([]fsm.Image, error) {
	if visibility != "" && !slices.Contains(imageVisibilities, visibility) {
		return nil, fmt.Errorf("%w: visibility %q: use one of %s", fsm.ErrInvalid, truncate(visibility), strings.Join(imageVisibilities, ", "))
	}
	p := Caller(ctx)
	out := []fsm.Image{}
	for _, img := range o.s.state.Images() {
		img.Visibility = ImageVisibility(img)
		if seesImage(p, img) && (visibility == "" || visibility == "all" || visibility == img.Visibility) {
			out = append(out, img)
		}
	}
	return out, nil
}

// ImageVisibility is the visibility an image is shown with: its own, with
// private for none, and public for one made before identity (every
// project sees those).
func ImageVisibility(img fsm.Image) string {
	switch {
	case img.ProjectID == "":
		return fsm.ImagePublic
	case img.Visibility == "":
		return fsm.ImagePrivate
	}
	return img.Visibility
}

// Image is an image the caller sees, by ID, else by a name unique among
// those it sees; another project's private one is absent.
func (o *Ops) Image(ctx context.Context, ref string) (fsm.Image, error) {
	img, err := o.s.imageFor(ctx, ref)
	if err == nil {
		img.Visibility = ImageVisibility(img)
	}
	return img, err
}

// CreateImage records a queued image of the caller's project (its data
// comes with UploadImage). Visibility "" is private; public is an admin's.
func (o *Ops) CreateImage(ctx context.Context, req ImageCreate) (uint64, fsm.Image, error) {
	img, err := req.image()
	if err != nil {
		return 0, img, err
	}
	p := Caller(ctx)
	if img.Visibility == fsm.ImagePublic && !p.Admin() {
		// Glance's publicize_image policy.
		return 0, img, fmt.Errorf("%w: you are not authorized to complete publicize_image action", fsm.ErrForbidden)
	}
	if existing, err := o.s.state.Image(img.ID); err == nil && existing.ID == img.ID {
		return 0, img, fmt.Errorf("%w: an image with ID %q already exists", fsm.ErrConflict, img.ID)
	}
	img.ProjectID, img.UserID = p.ProjectID, p.UserID
	img.Created = time.Now().UTC()
	img.Updated = img.Created
	return applyRead(o.s, ctx, &fsm.CreateImage{Image: img}, "image", img.ID, o.s.state.Image)
}

// DeleteImage deletes an image of the caller's (another project's it sees
// is 403, one it does not see 404); a protected one is 403 (Glance's), one
// a server uses 409.
func (o *Ops) DeleteImage(ctx context.Context, ref string) (uint64, error) {
	img, err := o.s.imageToChange(ctx, ref)
	if err != nil {
		return 0, err
	}
	// The FSM refuses too; checking here keeps a refused delete out of the log.
	if img.Protected {
		return 0, fmt.Errorf("%w: Image %s is protected and cannot be deleted.", fsm.ErrForbidden, img.ID)
	}
	if users := o.s.state.Instances(func(i *fsm.Instance) bool { return i.ImageID == img.ID }); len(users) > 0 {
		return 0, fmt.Errorf("%w: image %s is in use by %d server(s); delete them first", fsm.ErrConflict, img.ID, len(users))
	}
	return o.s.apply(ctx, &fsm.DeleteImage{ID: img.ID})
}

// UploadImage stores an image's data on this node and records it, which
// makes a queued image active: Glance's PUT …/file. contentType must be
// application/octet-stream (415 otherwise); length is the declared size
// (-1 unknown), refused at once when over the node's limit (413), which
// the body is held to as it is read. The data must be what the image's
// disk format says (qcow2 or raw; 400 otherwise); an active image's data
// cannot be replaced (409).
func (o *Ops) UploadImage(ctx context.Context, ref string, body io.Reader, contentType string, length int64) (uint64, fsm.Image, error) {
	s := o.s
	// Whose image it is comes first: another project's is absent or
	// forbidden whatever this node stores.
	img, err := s.imageToChange(ctx, ref)
	if err != nil {
		return 0, img, err
	}
	if s.images == nil {
		return 0, img, fmt.Errorf("%w: this node stores no images", errNotImplemented)
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "application/octet-stream" {
		return 0, img, fmt.Errorf("%w: send image data as application/octet-stream, not %q", errMediaType, truncate(contentType))
	}
	if img.Status == fsm.ImageActive && img.Checksum != "" {
		return 0, img, fmt.Errorf("%w: image %s is already active; its data cannot be replaced (create a new image)", fsm.ErrConflict, img.ID)
	}
	if !slices.Contains(uploadFormats, img.DiskFormat) {
		return 0, img, fmt.Errorf("%w: disk_format %q is not supported for upload; use %s", fsm.ErrInvalid, img.DiskFormat, strings.Join(uploadFormats, " or "))
	}
	if length > s.maxImage {
		return 0, img, fmt.Errorf("%w: the image is %d bytes; the limit is %d", errTooLarge, length, s.maxImage)
	}
	rd := &bodyReader{r: http.MaxBytesReader(nil, io.NopCloser(body), s.maxImage)}
	// Glance's checksum is an md5: it is taken of the bytes as the store
	// reads them, in the same pass as the store's sha256.
	sum := &md5Counter{h: md5.New()}
	stored, err := s.images.Put(ctx, io.TeeReader(rd, sum), img.DiskFormat, s.maxImage)
	if err != nil {
		return 0, img, uploadError(err, rd.err)
	}
	idx, img, err := applyRead(s, ctx, &fsm.ImageUploaded{ID: img.ID, Node: s.node, Size: stored.Size,
		Checksum: stored.Checksum, MD5: sum.of(stored.Size), DiskFormat: stored.Format, Time: time.Now().UTC()}, "image", img.ID, s.state.Image)
	if err != nil {
		return idx, img, err
	}
	s.log.Info("api: image uploaded", "image", img.ID, "checksum", stored.Checksum, "size", stored.Size)
	return idx, img, nil
}

// ServeImageData streams this node's copy of the data of an image the
// caller sees (Range requests served, so a broken download resumes), with
// X-Image-Checksum and an ETag of its sha256. An error comes back before
// anything is written, for the caller to answer in its dialect: an image
// without data, or whose data this node does not hold, is absent.
func (o *Ops) ServeImageData(w http.ResponseWriter, r *http.Request, ref string) error {
	s := o.s
	img, err := s.imageFor(r.Context(), ref)
	if err != nil {
		return err
	}
	if img.Checksum == "" {
		return fmt.Errorf("%w: image %s has no data yet (status %s)", fsm.ErrNotFound, img.ID, img.Status)
	}
	notHere := fmt.Errorf("%w: node %s holds no copy of image %s (held by: %s)", fsm.ErrNotFound, s.node, img.ID, holders(img))
	if s.images == nil {
		return notHere
	}
	rc, size, err := s.images.Open(img.Checksum)
	if errors.Is(err, fs.ErrNotExist) {
		return notHere
	}
	if err != nil {
		return fmt.Errorf("opening image data: %w", err)
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set(HeaderImageChecksum, img.Checksum)
	if img.MD5 != "" {
		w.Header().Set("Content-MD5", img.MD5) // Glance's header, hex as Glance sends it
	}
	w.Header().Set("Etag", `"`+img.Checksum+`"`)
	SetIndex(w, s.state.Index())
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", time.Time{}, rs)
		return nil
	}
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = io.Copy(w, rc)
	}
	return nil
}

// md5Counter hashes and counts what goes through it.
type md5Counter struct {
	h hash.Hash
	n int64
}

func (m *md5Counter) Write(b []byte) (int, error) {
	m.n += int64(len(b))
	return m.h.Write(b)
}

// of is the hex md5 of the data if exactly size bytes went through (the
// store read all it stored, once), else "": none rather than a wrong one.
func (m *md5Counter) of(size int64) string {
	if m.n != size {
		return ""
	}
	return hex.EncodeToString(m.h.Sum(nil))
}
