// Package client is the Go client of shoal's native HTTP API (package api).
// It speaks the wire types api and fsm define, so client and server cannot
// drift apart. Any node's address will do: followers forward writes.
//
// A client sends no token unless given one (WithToken) or a TokenSource
// (WithTokenSource), such as PasswordAuth, which speaks Keystone v3 password
// authentication and may share its tokens through a FileCache.
//
// Nodes speak HTTPS only. A client trusts the system's roots unless given
// the cluster's CA (WithCA, WithCAFile, LoadCA); PasswordAuth takes the same
// options, so that the token request trusts what the API calls trust.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Timeout bounds every request; it sits above the server's 60 s limit on
// leaving and on a gossip key rotation.
const Timeout = 70 * time.Second

// maxResponseBytes bounds what the client reads from one response.
const maxResponseBytes = 64 << 20

// Client talks to one node's API.
type Client struct {
	base   string
	http   *http.Client
	token  string      // a token given as is; never renewed
	tokens TokenSource // or where tokens come from; nil: none
}

// Option sets up a Client.
type Option func(*Client)

// WithToken makes the client send token (X-Auth-Token) with every request.
// It is used as is: a 401 is the caller's to handle.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithTokenSource makes the client send the token src gives with every
// request, and ask src for a new one once when the API refuses it (401).
func WithTokenSource(src TokenSource) Option { return func(c *Client) { c.tokens = src } }

// New returns a client for addr, a URL such as https://127.0.0.1:8774 or a
// bare host:port, which means https: nodes serve nothing else. An http:// URL
// is used as given (a test's plain server). Without options it sends no
// token and trusts the system's roots.
func New(addr string, opts ...Option) *Client {
	if !strings.Contains(addr, "://") {
		addr = "https://" + addr
	}
	c := &Client{base: strings.TrimRight(addr, "/"), http: &http.Client{Timeout: Timeout}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Error is a non-2xx answer from the API.
type Error struct {
	Status int
	// Kind names the error for programs ("not_found", "no_leader", …); it is
	// empty when something other than shoal's API answered (a proxy).
	Kind      string
	Message   string
	RequestID string
}

func (e *Error) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message) }

// Unwrap is the sentinel the server's error wrapped, found by its kind, so
// callers test API errors as they test local ones: errors.Is(err,
// fsm.ErrNotFound), errors.Is(err, fsm.ErrNoLeader) and so on. It is nil for
// a kind outside fsm's vocabulary; Status and Kind still say what happened.
func (e *Error) Unwrap() error { return fsm.ErrorOfKind(e.Kind) }

// Health returns the node's health. A 503 carrying a health body (the node is
// up but not ready) is not an error: look at Health.Status.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	resp, data, err := c.send(ctx, http.MethodGet, "/v1/health", nil)
	if err != nil {
		return api.Health{}, err
	}
	if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusServiceUnavailable {
		var h api.Health
		if json.Unmarshal(data, &h) == nil && h.Status != "" {
			return h, nil
		}
	}
	return api.Health{}, responseError(resp, data)
}

// Members lists the nodes gossip knows, sorted by name.
func (c *Client) Members(ctx context.Context) ([]api.Member, error) {
	var out api.MemberList
	err := c.do(ctx, http.MethodGet, "/v1/cluster/members", nil, &out)
	return out.Members, err
}

// Leader returns the current leader; without one the error wraps fsm.ErrNoLeader.
func (c *Client) Leader(ctx context.Context) (api.Leader, error) {
	var out api.LeaderResponse
	err := c.do(ctx, http.MethodGet, "/v1/cluster/leader", nil, &out)
	return out.Leader, err
}

// Leave makes the node leave its cluster gracefully; its agent then stops.
func (c *Client) Leave(ctx context.Context) (string, error) {
	var out api.LeaveResponse
	err := c.do(ctx, http.MethodPost, "/v1/cluster/leave", nil, &out)
	return out.Left, err
}

// Flavors lists flavors ordered by ID.
func (c *Client) Flavors(ctx context.Context) ([]fsm.Flavor, error) {
	var out api.FlavorList
	err := c.do(ctx, http.MethodGet, "/v1/flavors", nil, &out)
	return out.Flavors, err
}

// Flavor finds a flavor by ID or name.
func (c *Client) Flavor(ctx context.Context, ref string) (fsm.Flavor, error) {
	path, err := flavorPath(ref)
	if err != nil {
		return fsm.Flavor{}, err
	}
	var out api.FlavorResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Flavor, err
}

// CreateFlavor creates a flavor (ram in MiB, disk in GiB); an empty id lets
// the server choose one.
func (c *Client) CreateFlavor(ctx context.Context, name string, vcpus, ram, disk int, id string) (fsm.Flavor, error) {
	req := struct {
		ID    string `json:"id,omitempty"`
		Name  string `json:"name"`
		VCPUs int    `json:"vcpus"`
		RAM   int    `json:"ram"`
		Disk  int    `json:"disk"`
	}{id, name, vcpus, ram, disk}
	var out api.FlavorResponse
	err := c.do(ctx, http.MethodPost, "/v1/flavors", map[string]any{"flavor": req}, &out)
	return out.Flavor, err
}

// DeleteFlavor deletes a flavor by ID or name.
func (c *Client) DeleteFlavor(ctx context.Context, ref string) error {
	path, err := flavorPath(ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// Hosts lists the registered hosts with their up/down state.
func (c *Client) Hosts(ctx context.Context) ([]api.Host, error) {
	var out api.HostList
	err := c.do(ctx, http.MethodGet, "/v1/hosts", nil, &out)
	return out.Hosts, err
}

// flavorPath escapes ref as one path segment. An empty ref would address the
// list instead, so it is refused here.
func flavorPath(ref string) (string, error) { return refPath("/v1/flavors/", "flavor ID or name", ref) }

// refPath appends ref to prefix as one escaped path segment, refusing an
// empty ref (it would address the list instead).
func refPath(prefix, what, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%w: empty %s", fsm.ErrInvalid, what)
	}
	return prefix + url.PathEscape(ref), nil
}

// do sends one request with an optional JSON body and decodes a 2xx answer
// into out (when out is not nil). Anything else becomes an *Error.
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, data, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decoding response: %w", method, path, err)
	}
	return nil
}

// send makes the round trip and reads the whole (bounded) response body.
// The body is buffered, so a request refused with 401 can be sent again: once,
// with a token the client's TokenSource renewed.
func (c *Client) send(ctx context.Context, method, path string, body any) (*http.Response, []byte, error) {
	return c.sendWith(ctx, method, path, body, nil)
}

// sendWith is send with extra request headers (Keystone's X-Subject-Token).
func (c *Client) sendWith(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, []byte, error) {
	var payload []byte
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding %s %s: %w", method, path, err)
		}
		payload = b
	}
	token, err := c.authToken(ctx)
	if err != nil {
		return nil, nil, err
	}
	resp, data, err := c.roundTrip(ctx, method, path, payload, token, header)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || c.tokens == nil {
		return resp, data, err
	}
	if token, err = c.tokens.Renew(ctx, token); err != nil {
		return nil, nil, err
	}
	return c.roundTrip(ctx, method, path, payload, token, header)
}

// roundTrip sends one request with payload (nil: no body), token (empty:
// none) and any extra header, and reads the bounded answer.
func (c *Client) roundTrip(ctx context.Context, method, path string, payload []byte, token string, header http.Header) (*http.Response, []byte, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set(HeaderAuthToken, token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading response: %w", method, path, err)
	}
	return resp, data, nil
}

// authToken is the token to send: the source's, the given one, or none.
func (c *Client) authToken(ctx context.Context) (string, error) {
	if c.tokens != nil {
		return c.tokens.Token(ctx)
	}
	return c.token, nil
}

// responseError builds an *Error from the API's error body, or from whatever
// else answered (a proxy, another service).
func responseError(resp *http.Response, data []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get(api.HeaderRequestID)}
	var body api.ErrorBody
	if json.Unmarshal(data, &body) == nil && body.Error.Message != "" {
		e.Kind, e.Message = body.Error.Kind, body.Error.Message
		if e.Kind == "" {
			// Keystone's error body ({"code","title","message"}) has no kind:
			// its status says as much as Keystone's clients read from it.
			e.Kind = keystoneKinds[resp.StatusCode]
		}
		return e
	}
	e.Message = strings.TrimSpace(string(data))
	if len(e.Message) > 200 {
		e.Message = strings.ToValidUTF8(e.Message[:200], "") + "…"
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// keystoneKinds are the kinds of fsm's vocabulary that Keystone's statuses
// mean, for an error body that names none.
var keystoneKinds = map[int]string{
	http.StatusBadRequest:   fsm.KindOf(fsm.ErrInvalid),
	http.StatusUnauthorized: fsm.KindOf(fsm.ErrUnauthorized),
	http.StatusForbidden:    fsm.KindOf(fsm.ErrForbidden),
	http.StatusNotFound:     fsm.KindOf(fsm.ErrNotFound),
	http.StatusConflict:     fsm.KindOf(fsm.ErrConflict),
}

// authorize sets the token on a request send does not make (image data).
func (c *Client) authorize(ctx context.Context, req *http.Request) error {
	token, err := c.authToken(ctx)
	if token != "" {
		req.Header.Set(HeaderAuthToken, token)
	}
	return err
}
