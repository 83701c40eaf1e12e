package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/shoal-project/shoal/api"
)

// UploadImage sends an image's data (Glance's second step), which makes a
// queued image active. size is the number of bytes r holds, or -1 when not
// known; progress, when not nil, is called with the bytes sent so far as
// they go. The node refuses data that is not what the image's disk format
// says (an error wrapping fsm.ErrInvalid) and images that have data already
// (fsm.ErrConflict). Only ctx bounds the transfer: large images take long.
func (c *Client) UploadImage(ctx context.Context, ref string, r io.Reader, size int64, progress func(done int64)) error {
	path, err := refPath("/v1/images/", "image ID or name", ref)
	if err != nil {
		return err
	}
	body := &countingReader{r: r, progress: progress}
	defer body.stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+path+"/file", body)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Accept", "application/json")
	// The data streams, so a 401 cannot be answered by sending it again.
	if err := c.authorize(ctx, req); err != nil {
		return err
	}
	resp, err := c.transfers().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return responseError(resp, data)
	}
	return nil
}

// DownloadImage writes the data of an image held by the node the client
// talks to into w, checks it against the sha256 the node announces, and
// returns the number of bytes written. A node without a copy answers
// fsm.ErrNotFound; the image's locations name the nodes that hold one.
func (c *Client) DownloadImage(ctx context.Context, ref string, w io.Writer) (int64, error) {
	path, err := refPath("/v1/images/", "image ID or name", ref)
	if err != nil {
		return 0, err
	}
	resp, err := c.getData(ctx, c.base+path+"/file")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		return 0, responseError(resp, data)
	}
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, sum), resp.Body)
	if err != nil {
		return n, fmt.Errorf("downloading image %s: %w", ref, err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, fmt.Errorf("downloading image %s: got %d of %d bytes", ref, n, resp.ContentLength)
	}
	if want, got := resp.Header.Get(api.HeaderImageChecksum), hex.EncodeToString(sum.Sum(nil)); want != "" && got != want {
		return n, fmt.Errorf("downloading image %s: the data has sha256 %s, the node announced %s", ref, got, want)
	}
	return n, nil
}

// getData GETs url with the client's token. A GET has no body to resend, so a
// token refused with 401 is renewed and the request sent again, once, as
// send does.
func (c *Client) getData(ctx context.Context, url string) (*http.Response, error) {
	token, err := c.authToken(ctx)
	if err != nil {
		return nil, err
	}
	for renewed := false; ; renewed = true {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		if token != "" {
			req.Header.Set(HeaderAuthToken, token)
		}
		resp, err := c.transfers().Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized || c.tokens == nil || renewed {
			return resp, err
		}
		resp.Body.Close()
		if token, err = c.tokens.Renew(ctx, token); err != nil {
			return nil, err
		}
	}
}

// transfers is the HTTP client for image data: the same transport, without
// the overall timeout meant for API calls.
func (c *Client) transfers() *http.Client {
	return &http.Client{Transport: c.http.Transport, CheckRedirect: c.http.CheckRedirect, Jar: c.http.Jar}
}

// countingReader reports how much of an upload has been read. The transport
// may still read a body after the round trip returned (when the node
// answered early); stop ends that, so progress is never called late.
type countingReader struct {
	mu       sync.Mutex
	r        io.Reader
	done     int64
	progress func(done int64)
	stopped  bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return 0, errors.New("upload ended")
	}
	n, err := r.r.Read(p)
	r.done += int64(n)
	if n > 0 && r.progress != nil {
		r.progress(r.done)
	}
	return n, err
}

func (r *countingReader) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stopped = true
}
