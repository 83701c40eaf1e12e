package imagecache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

var (
	// ErrInvalidImage means the data is not what its disk format says, or is
	// unsafe to give a guest. It wraps fsm.ErrInvalid, so the API answers 400.
	ErrInvalidImage = fmt.Errorf("%w image", fsm.ErrInvalid)
	// ErrTooLarge means the data is longer than the limit it was stored with.
	ErrTooLarge = errors.New("image data too large")
	// ErrChecksum means fetched data is not the data the image record names.
	ErrChecksum = errors.New("image data does not match its checksum")
	// ErrNoCopy means no node this one can reach holds the image's data.
	ErrNoCopy = errors.New("no copy of the image data")
)

// HeaderChecksum carries the hex sha256 of an image's data on a download
// (GET /v1/images/{id}/file). api.HeaderImageChecksum is the same header.
const HeaderChecksum = "X-Image-Checksum"

// tmpPrefix names files being written; New removes any a crash left behind.
const tmpPrefix = ".partial-"

// Images reads image records. *fsm.FSM satisfies it.
type Images interface {
	Image(ref string) (fsm.Image, error)
}

// Peers finds the HTTP API address (host:port) of another node by name.
type Peers interface {
	HostHTTPAddress(name string) (addr string, ok bool)
}

// Recorder commits a command through Raft (forwarding to the leader as
// needed). *cluster.Node satisfies it.
type Recorder interface {
	Apply(ctx context.Context, c fsm.Command) (uint64, error)
}

// Config is what a Cache needs. Dir is required; Put, Has, Open and Remove
// need nothing else. Path needs Images, and Peers and HTTPClient to fetch,
// and records fetched copies through Recorder when there is one.
type Config struct {
	Dir      string // where the data lives, typically DataDir/images
	NodeName string // this node, as image locations name it
	Images   Images
	Peers    Peers
	Recorder Recorder
	// HTTPClient fetches from peers, over HTTPS as this node: the node's
	// TLS client (its certificate, the cluster CA; cluster.Node's
	// InternalClient), since peers serve image data to other nodes only.
	// Fetching needs it; it should bound dialing and handshakes, while a
	// whole fetch, long for a large image, is bounded by the caller's context.
	HTTPClient *http.Client
	Logger     *slog.Logger     // nil discards
	Now        func() time.Time // stamps recorded locations; nil is time.Now
}

// Validate reports a Config the cache cannot work with.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("imagecache: Config.Dir is required")
	}
	return nil
}

// Stored describes data in the cache.
type Stored struct {
	Checksum string // hex sha256
	Size     int64
	Format   string // qcow2 or raw, as checked
}

// Cache is one node's content-addressed image store.
type Cache struct {
	cfg Config
	dir string
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	fetches map[string]*fetch // checksum → the fetch under way
}

// New opens (creating it if needed) the cache in cfg.Dir and removes
// partial files a crash left behind.
func New(cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	partial, err := filepath.Glob(filepath.Join(cfg.Dir, tmpPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	for _, p := range partial {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("imagecache: removing a partial file: %w", err)
		}
	}
	c := &Cache{cfg: cfg, dir: cfg.Dir, log: cfg.Logger, now: cfg.Now, fetches: map[string]*fetch{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Dir is the directory the data lives in.
func (c *Cache) Dir() string { return c.dir }

// file is where data with this checksum lives; "" for anything that is not a
// checksum, so no caller-supplied string ever becomes a path.
func (c *Cache) file(checksum string) string {
	if !fsm.ValidChecksum(checksum) {
		return ""
	}
	return filepath.Join(c.dir, checksum)
}

// Has reports whether this node holds the data with checksum.
func (c *Cache) Has(checksum string) bool {
	p := c.file(checksum)
	if p == "" {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Open opens the data with checksum for reading and returns its size. Data
// this node does not hold is an error wrapping fs.ErrNotExist.
func (c *Cache) Open(checksum string) (io.ReadCloser, int64, error) {
	p := c.file(checksum)
	if p == "" {
		return nil, 0, fmt.Errorf("imagecache: %q is not a sha256 checksum: %w", checksum, fs.ErrNotExist)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, fmt.Errorf("imagecache: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("imagecache: %w", err)
	}
	return f, fi.Size(), nil
}

// Remove deletes the data with checksum; removing data that is not here is
// not an error. Open readers keep reading what they opened.
func (c *Cache) Remove(checksum string) error {
	p := c.file(checksum)
	if p == "" {
		return fmt.Errorf("imagecache: %q is not a sha256 checksum", checksum)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("imagecache: %w", err)
	}
	return nil
}

// Put stores data of the declared format (qcow2 or raw), at most maxSize
// bytes (0: no limit), and returns its checksum and size. The data is
// checked as it streams in; data that is not what it claims to be, or that
// could expose host files to a guest, is refused (ErrInvalidImage) and
// nothing is stored. Storing data that is already here keeps the copy.
func (c *Cache) Put(ctx context.Context, r io.Reader, declaredFormat string, maxSize int64) (Stored, error) {
	return c.put(ctx, r, declaredFormat, maxSize, "")
}

// put is Put that, when want is set, also refuses data whose checksum is
// not want before it becomes visible.
func (c *Cache) put(ctx context.Context, r io.Reader, format string, maxSize int64, want string) (Stored, error) {
	if !Supported(format) {
		return Stored{}, fmt.Errorf("%w: disk format %q is not supported for upload; use qcow2 or raw", ErrInvalidImage, format)
	}
	if maxSize <= 0 || maxSize == math.MaxInt64 {
		maxSize = math.MaxInt64 - 1
	}
	r = ctxReader{ctx, r}
	head := make([]byte, headSize)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return Stored{}, fmt.Errorf("reading image data: %w", err)
	}
	head = head[:n]
	if int64(n) > maxSize {
		return Stored{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
	}
	if err := checkFormat(head, format); err != nil {
		return Stored{}, err
	}

	tmp, err := os.CreateTemp(c.dir, tmpPrefix+"*")
	if err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sum := sha256.New()
	w := io.MultiWriter(tmp, sum)
	size := int64(0)
	// The head buffer carries the rest too: read, count, then write, so a
	// failed read is the sender's and a failed write is this node's.
	for chunk, more := head, n == headSize; ; {
		if _, err := w.Write(chunk); err != nil {
			return Stored{}, fmt.Errorf("imagecache: %w", err)
		}
		size += int64(len(chunk))
		if !more {
			break
		}
		m, err := r.Read(head[:cap(head)])
		if size+int64(m) > maxSize {
			return Stored{}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxSize)
		}
		chunk = head[:m]
		if errors.Is(err, io.EOF) {
			more = false
		} else if err != nil {
			return Stored{}, fmt.Errorf("reading image data: %w", err)
		}
	}
	checksum := hex.EncodeToString(sum.Sum(nil))
	if want != "" && checksum != want {
		return Stored{}, fmt.Errorf("%w: got sha256 %s, want %s", ErrChecksum, checksum, want)
	}
	if c.Has(checksum) {
		// Already here (another upload of the same bytes): keep that file,
		// which a running guest may be using as its base.
		return Stored{Checksum: checksum, Size: size, Format: format}, nil
	}
	if err := tmp.Chmod(0o644); err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	// Two uploads of the same bytes may race to here: same name, same
	// content, so either rename is fine.
	if err := os.Rename(tmp.Name(), c.file(checksum)); err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	committed = true
	if err := syncDir(c.dir); err != nil {
		return Stored{}, fmt.Errorf("imagecache: %w", err)
	}
	return Stored{Checksum: checksum, Size: size, Format: format}, nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// ctxReader stops reading once ctx is done, so a cancelled caller does not
// keep a slow upload or fetch going.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
