package imagecache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

var _ compute.ImageCache = (*Cache)(nil)

// fetch is one download under way; callers wanting the same data wait for it.
type fetch struct {
	done chan struct{}
	err  error
	// abandoned: the fetch stopped because its own caller gave up, which
	// says nothing about the data; a waiter still interested tries again.
	abandoned bool
}

// Path returns the local file holding image imageID's data and its disk
// format, fetching the data from a node that holds it first when this node
// has none. It implements compute.ImageCache.
func (c *Cache) Path(ctx context.Context, imageID string) (path, format string, err error) {
	if c.cfg.Images == nil {
		return "", "", errors.New("imagecache: Path needs Config.Images")
	}
	img, err := c.cfg.Images.Image(imageID)
	if err != nil {
		return "", "", fmt.Errorf("image %s: %w", imageID, err)
	}
	switch {
	case img.Status != fsm.ImageActive || img.Checksum == "":
		return "", "", fmt.Errorf("%w: image %s has no data yet (status %s): upload it first", fsm.ErrConflict, img.ID, img.Status)
	case !fsm.ValidChecksum(img.Checksum):
		return "", "", fmt.Errorf("%w: image %s has checksum %q, not a hex sha256", ErrInvalidImage, img.ID, img.Checksum)
	case !Supported(img.DiskFormat):
		return "", "", fmt.Errorf("%w: image %s is %s; only qcow2 and raw images boot", ErrInvalidImage, img.ID, img.DiskFormat)
	}
	if c.Has(img.Checksum) {
		if !slices.Contains(img.Locations, c.cfg.NodeName) {
			// Held but not listed (an earlier record failed): list it, so
			// peers can fetch from here.
			c.record(ctx, img)
		}
		return c.file(img.Checksum), img.DiskFormat, nil
	}
	if err := c.fetchShared(ctx, img); err != nil {
		return "", "", err
	}
	return c.file(img.Checksum), img.DiskFormat, nil
}

// fetchShared fetches img's data unless a fetch of the same data is under
// way, in which case it waits for that one.
func (c *Cache) fetchShared(ctx context.Context, img fsm.Image) error {
	for {
		c.mu.Lock()
		if f, ok := c.fetches[img.Checksum]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if f.abandoned && ctx.Err() == nil {
				continue
			}
			return f.err
		}
		if c.Has(img.Checksum) { // a fetch finished between our look and the lock
			c.mu.Unlock()
			return nil
		}
		f := &fetch{done: make(chan struct{})}
		c.fetches[img.Checksum] = f
		c.mu.Unlock()

		f.err = c.fetch(ctx, img)
		f.abandoned = f.err != nil && ctx.Err() != nil
		c.mu.Lock()
		delete(c.fetches, img.Checksum)
		c.mu.Unlock()
		close(f.done)
		return f.err
	}
}

// fetch downloads img's data from the nodes that hold it, one at a time
// from a random one on, and records this node as a location once the data
// is here and verified.
func (c *Cache) fetch(ctx context.Context, img fsm.Image) error {
	var sources []string
	for _, node := range img.Locations {
		if node != c.cfg.NodeName {
			sources = append(sources, node)
		}
	}
	if len(sources) == 0 {
		return fmt.Errorf("%w: image %s: no other node holds its data", ErrNoCopy, img.ID)
	}
	if c.cfg.Peers == nil || c.cfg.HTTPClient == nil {
		return errors.New("imagecache: fetching from peers needs Config.Peers and Config.HTTPClient")
	}
	start := rand.IntN(len(sources)) // spread fetches over the holders
	var errs []error
	for i := range sources {
		node := sources[(start+i)%len(sources)]
		addr, ok := c.cfg.Peers.HostHTTPAddress(node)
		if !ok || addr == "" {
			errs = append(errs, fmt.Errorf("%s: no HTTP address known", node))
			continue
		}
		err := c.fetchFrom(ctx, addr, img)
		if err == nil {
			c.log.Info("imagecache: fetched image", "image", img.ID, "checksum", img.Checksum, "size", img.Size, "from", node)
			c.record(ctx, img)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("fetching image %s from %s: %w", img.ID, node, ctx.Err())
		}
		c.log.Warn("imagecache: fetch failed", "image", img.ID, "from", node, "error", err)
		errs = append(errs, fmt.Errorf("%s: %w", node, err))
	}
	return fmt.Errorf("%w: fetching image %s: %w", ErrNoCopy, img.ID, errors.Join(errs...))
}

// internalImagePath is where a node serves the data of image id to other
// nodes (api's internal route): only to a client with a node certificate.
func internalImagePath(id string) string {
	return "/internal/v1/images/" + url.PathEscape(id) + "/file"
}

// headerTimeout bounds the wait for a peer's answer to begin; the transfer
// itself is bounded by the caller's context alone (a large image takes long).
const headerTimeout = 30 * time.Second

var errNoAnswer = fmt.Errorf("no answer within %s", headerTimeout)

// fetchFrom downloads img's data from one peer (addr: its API's host:port)
// into the cache, verifying its checksum and size before it becomes visible.
func (c *Cache) fetchFrom(ctx context.Context, addr string, img fsm.Image) error {
	u := "https://" + hostPort(addr) + internalImagePath(img.ID)
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	stalled := time.AfterFunc(headerTimeout, func() { cancel(errNoAnswer) })
	resp, err := c.cfg.HTTPClient.Do(req)
	if !stalled.Stop() && err == nil {
		resp.Body.Close()
		err = errNoAnswer
	}
	if err != nil {
		if cause := context.Cause(reqCtx); errors.Is(cause, errNoAnswer) {
			return fmt.Errorf("GET %s: %w", u, cause)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	if got := resp.Header.Get(HeaderChecksum); got != "" && got != img.Checksum {
		return fmt.Errorf("%w: the peer serves sha256 %s, want %s", ErrChecksum, got, img.Checksum)
	}
	stored, err := c.put(ctx, resp.Body, img.DiskFormat, img.Size, img.Checksum)
	if err != nil {
		return err
	}
	if stored.Size != img.Size {
		// Same sha256, other size: impossible unless the record is wrong.
		return fmt.Errorf("%w: got %d bytes, the image has %d", ErrChecksum, stored.Size, img.Size)
	}
	return nil
}

// hostPort is addr without a scheme, had one been recorded: nodes speak
// HTTPS only, whatever a host record says.
func hostPort(addr string) string {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	return strings.TrimRight(addr, "/")
}

// record lists this node as holding img's data. A failure is logged, not
// returned: the data is here and usable; peers just cannot fetch it from
// this node until a later Path lists it.
func (c *Cache) record(ctx context.Context, img fsm.Image) {
	if c.cfg.Recorder == nil || c.cfg.NodeName == "" {
		return
	}
	_, err := c.cfg.Recorder.Apply(ctx, &fsm.ImageUploaded{ID: img.ID, Node: c.cfg.NodeName, Size: img.Size,
		Checksum: img.Checksum, DiskFormat: img.DiskFormat, Time: c.now().UTC()})
	if err != nil {
		c.log.Warn("imagecache: recording this node as a location failed", "image", img.ID, "error", err)
	}
}

// HostRecords finds peers' HTTP addresses in the FSM's host records;
// *fsm.FSM is a suitable hosts.
func HostRecords(hosts interface {
	Host(name string) (fsm.Host, error)
}) Peers {
	return hostRecords{hosts}
}

type hostRecords struct {
	hosts interface {
		Host(name string) (fsm.Host, error)
	}
}

func (h hostRecords) HostHTTPAddress(name string) (string, bool) {
	host, err := h.hosts.Host(name)
	if err != nil || host.HTTPAddress == "" {
		return "", false
	}
	return host.HTTPAddress, true
}
