package lab

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// The wire shapes the lab reads: its own small structs, so the lab keeps
// compiling while api's types change.

// Health is GET /v1/health. Scheduler is nil when the node does not say.
type Health struct {
	Name             string `json:"name"`
	Status           string `json:"status"`
	ClusterID        string `json:"cluster_id"`
	Role             string `json:"role"`
	Leader           string `json:"leader"`
	Index            uint64 `json:"index"`
	Fenced           *bool  `json:"fenced"`
	LeaseRemainingMS int64  `json:"lease_remaining_ms"`
	Scheduler        *bool  `json:"scheduler"`
}

// IsFenced reports "fenced": true.
func (h Health) IsFenced() bool { return h.Fenced != nil && *h.Fenced }

// String is the health in one line, for failure notes; "-" for a field the
// node does not report.
func (h Health) String() string {
	flag := func(b *bool) string {
		if b == nil {
			return "-"
		}
		return fmt.Sprint(*b)
	}
	return fmt.Sprintf("%s: status %s, role %s, leader %q, fenced %s, lease %d ms, scheduler %s",
		h.Name, h.Status, h.Role, h.Leader, flag(h.Fenced), h.LeaseRemainingMS, flag(h.Scheduler))
}

// Member is one entry of GET /v1/cluster/members.
type Member struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Status  string `json:"status"`
	Role    string `json:"role"`
	Fenced  bool   `json:"fenced"`
}

// Address is one of a server's addresses: a fixed IP, or a floating IP
// (Type "floating") attached to it.
type Address struct {
	Network string `json:"network"`
	IP      string `json:"ip"`
	MAC     string `json:"mac"`
	Type    string `json:"OS-EXT-IPS:type,omitempty"`
}

// Server is one server as the API shows it.
type Server struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Host      string    `json:"host"`
	Addresses []Address `json:"addresses"`
	VMState   string    `json:"vm_state"`
	TaskState string    `json:"task_state"`
	Flavor    Flavor    `json:"flavor"`
	// KeyName is the keypair the server was created with; ConfigDrive
	// is "True" when it asked for a config drive, else "" (Nova's shape).
	KeyName     string `json:"key_name"`
	ConfigDrive string `json:"config_drive"`
}

// Action is one entry of a server's action log.
type Action struct {
	Action string `json:"action"`
	Result string `json:"result"`
}

// Hypervisor is one host's capacity (what it reports, less what it
// reserves) against what is claimed on it, as GET /v1/hypervisors shows it.
type Hypervisor struct {
	Name          string `json:"name"`
	VCPUs         int    `json:"vcpus"`
	VCPUsUsed     int    `json:"vcpus_used"`
	MemoryMiB     int    `json:"memory_mib"`
	MemoryMiBUsed int    `json:"memory_mib_used"`
	DiskGiB       int    `json:"disk_gib"`
	DiskGiBUsed   int    `json:"disk_gib_used"`
}

// CreateRequest is POST /v1/servers's body, inside {"server":…}. UserData
// is base64, as the API takes it.
type CreateRequest struct {
	Name             string `json:"name"`
	Flavor           string `json:"flavor"`
	Image            string `json:"image"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	KeyName          string `json:"key_name,omitempty"`
	UserData         string `json:"user_data,omitempty"`
	ConfigDrive      bool   `json:"config_drive,omitempty"`
}

// StatusError is an answer that is not 2xx.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %.300s", e.Code, e.Body) }

// HTTPCode returns the status of a StatusError, 0 for any other error (no
// answer: the outcome of a write is then unknown).
func HTTPCode(err error) int {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// Client talks JSON to one node's API over HTTPS, as admin: every call but
// health carries admin's token.
type Client struct {
	Base  string
	hc    *http.Client
	admin *Admin
}

// NewClient returns a client of the API at base (https://host:port) that
// trusts only the CAs in roots (the cluster CA) and whose calls give up
// after 5 s unless their context ends sooner.
func NewClient(base string, admin *Admin, roots *x509.CertPool) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &Client{Base: base, hc: &http.Client{Timeout: 5 * time.Second, Transport: tr}, admin: admin}
}

// WithTimeout returns a client for base with another per-call timeout; it
// shares c's connections.
func (c *Client) WithTimeout(d time.Duration) *Client {
	return &Client{Base: c.Base, hc: &http.Client{Timeout: d, Transport: c.hc.Transport}, admin: c.admin}
}

// Health answers GET /v1/health; a 503 (no leader, waiting) still decodes.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var h Health
	code, body, err := c.send(ctx, http.MethodGet, "/v1/health", nil)
	if err != nil {
		return h, err
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("health (HTTP %d): %w", code, err)
	}
	return h, nil
}

// Members answers GET /v1/cluster/members.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	return wrapped[[]Member](ctx, c, http.MethodGet, "/v1/cluster/members", nil, "members")
}

// Servers answers GET /v1/servers.
func (c *Client) Servers(ctx context.Context) ([]Server, error) {
	return wrapped[[]Server](ctx, c, http.MethodGet, "/v1/servers", nil, "servers")
}

// Server answers GET /v1/servers/{id}.
func (c *Client) Server(ctx context.Context, id string) (Server, error) {
	return wrapped[Server](ctx, c, http.MethodGet, "/v1/servers/"+url.PathEscape(id), nil, "server")
}

// CreateServer posts one server; a nil error means 202, acknowledged.
func (c *Client) CreateServer(ctx context.Context, req CreateRequest) (Server, error) {
	return wrapped[Server](ctx, c, http.MethodPost, "/v1/servers", map[string]any{"server": req}, "server")
}

// DeleteServer asks for a server's deletion.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/servers/"+url.PathEscape(id), nil, nil)
}

// Actions answers GET /v1/servers/{id}/actions.
func (c *Client) Actions(ctx context.Context, id string) ([]Action, error) {
	return wrapped[[]Action](ctx, c, http.MethodGet, "/v1/servers/"+url.PathEscape(id)+"/actions", nil, "actions")
}

// Hypervisors answers GET /v1/hypervisors.
func (c *Client) Hypervisors(ctx context.Context) ([]Hypervisor, error) {
	return wrapped[[]Hypervisor](ctx, c, http.MethodGet, "/v1/hypervisors", nil, "hypervisors")
}

// CreateFlavor creates a flavor; ram in MiB, disk in GiB.
func (c *Client) CreateFlavor(ctx context.Context, name string, vcpus, ram, disk int) error {
	body := map[string]any{"flavor": map[string]any{"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}}
	return c.do(ctx, http.MethodPost, "/v1/flavors", body, nil)
}

// wrapped sends a request whose answer wraps its value in one key, as every
// /v1 answer does ({"servers": [...]}), and returns that value: the zero
// value when the key is absent.
func wrapped[T any](ctx context.Context, c *Client, method, path string, in any, key string) (T, error) {
	var out map[string]json.RawMessage
	var v T
	if err := c.do(ctx, method, path, in, &out); err != nil {
		return v, err
	}
	if raw, ok := out[key]; ok {
		if err := json.Unmarshal(raw, &v); err != nil {
			return v, fmt.Errorf("%s %s: %s: %w", method, path, key, err)
		}
	}
	return v, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	code, body, err := c.send(ctx, method, path, in)
	if err != nil {
		return err
	}
	if code < 200 || code > 299 {
		return &StatusError{Code: code, Body: string(body)}
	}
	if out == nil || len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// send sends a request with the admin's token (health needs none); a token
// refused with 401 is replaced by a new login and the request sent again,
// once.
func (c *Client) send(ctx context.Context, method, path string, in any) (int, []byte, error) {
	var data []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, err
		}
		data = b
	}
	refused := ""
	for {
		var token string
		if path != "/v1/health" && c.admin != nil {
			t, err := c.admin.Token(ctx, c.hc, c.Base, refused)
			if err != nil {
				return 0, nil, err
			}
			token = t
		}
		code, body, err := c.sendOnce(ctx, method, path, data, token)
		if err != nil || code != http.StatusUnauthorized || token == "" || refused != "" {
			return code, body, err
		}
		refused = token
	}
}

func (c *Client) sendOnce(ctx context.Context, method, path string, data []byte, token string) (int, []byte, error) {
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}
