package lab

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The migration wire shapes (issue 15, /v1) as far as the migration
// scenarios read them.

// Flavor is a server's flavor as GET /v1/servers/{id} shows it.
type Flavor struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	VCPUs int    `json:"vcpus"`
	RAM   int    `json:"ram"`
	Disk  int    `json:"disk"`
}

// Migration is one record of GET /v1/migrations (Nova's os-migrations
// fields).
type Migration struct {
	ID         uint64    `json:"id"`
	UUID       string    `json:"uuid"`
	InstanceID string    `json:"instance_uuid"`
	Kind       string    `json:"migration_type"` // live-migration, migration, resize, evacuation
	Status     string    `json:"status"`
	Source     string    `json:"source_compute"`
	Dest       string    `json:"dest_compute"`
	OldFlavor  Flavor    `json:"old_flavor"`
	NewFlavor  Flavor    `json:"new_flavor"`
	Message    string    `json:"message"`
	Created    time.Time `json:"created_at"`
	Updated    time.Time `json:"updated_at"`
}

// MigrationFilter narrows GET /v1/migrations; empty fields do not filter.
type MigrationFilter struct {
	InstanceID string // instance_uuid
	Host       string // source or destination
	Status     string
	Kind       string // migration_type
}

// Drain is a host's drain as POST/GET /v1/hosts/{name}/drain show it.
type Drain struct {
	Host       string        `json:"host"`
	State      string        `json:"state"` // draining, done, failed, idle
	Total      int           `json:"total"`
	Moved      int           `json:"moved"`
	Remaining  int           `json:"remaining"`
	InProgress []string      `json:"in_progress"`
	Failed     []DrainFailed `json:"failed"`
	StartedAt  time.Time     `json:"started_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// DrainFailed is a server a drain could not move, and why.
type DrainFailed struct {
	Instance string `json:"instance"`
	Message  string `json:"message"`
}

// HostStatus is one host of GET /v1/hosts: state up|down, status
// enabled|disabled (for new servers).
type HostStatus struct {
	Name           string `json:"name"`
	State          string `json:"state"`
	Status         string `json:"status"`
	DisabledReason string `json:"disabled_reason"`
}

// LiveMigrate moves a running server to host ("" lets the scheduler
// choose) while it runs; the answer is the server, MIGRATING.
func (c *Client) LiveMigrate(ctx context.Context, id, host string) (Server, error) {
	return c.action(ctx, id, withHost(map[string]any{"action": "live-migrate"}, host))
}

// Migrate cold-migrates a server to host ("" lets the scheduler choose):
// it ends in VERIFY_RESIZE, for ConfirmResize or RevertResize.
func (c *Client) Migrate(ctx context.Context, id, host string) (Server, error) {
	return c.action(ctx, id, withHost(map[string]any{"action": "migrate"}, host))
}

// Resize moves a server to flavor (name or ID), on another host; it ends
// in VERIFY_RESIZE.
func (c *Client) Resize(ctx context.Context, id, flavor string) (Server, error) {
	return c.action(ctx, id, map[string]any{"action": "resize", "flavor": flavor})
}

// ConfirmResize keeps a server in VERIFY_RESIZE where it is.
func (c *Client) ConfirmResize(ctx context.Context, id string) (Server, error) {
	return c.action(ctx, id, map[string]any{"action": "confirm-resize"})
}

// RevertResize sends a server in VERIFY_RESIZE back to its old host and
// flavor.
func (c *Client) RevertResize(ctx context.Context, id string) (Server, error) {
	return c.action(ctx, id, map[string]any{"action": "revert-resize"})
}

// Migrations answers GET /v1/migrations, newest first.
func (c *Client) Migrations(ctx context.Context, f MigrationFilter) ([]Migration, error) {
	q := url.Values{}
	for k, v := range map[string]string{"instance_uuid": f.InstanceID, "host": f.Host, "status": f.Status, "migration_type": f.Kind} {
		if v != "" {
			q.Set(k, v)
		}
	}
	path := "/v1/migrations"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	return wrapped[[]Migration](ctx, c, http.MethodGet, path, nil, "migrations")
}

// Drain starts moving every server off host (live when they run), which
// is disabled for new servers.
func (c *Client) Drain(ctx context.Context, host string) (Drain, error) {
	return wrapped[Drain](ctx, c, http.MethodPost, "/v1/hosts/"+url.PathEscape(host)+"/drain", nil, "drain")
}

// DrainStatus answers GET /v1/hosts/{name}/drain.
func (c *Client) DrainStatus(ctx context.Context, host string) (Drain, error) {
	return wrapped[Drain](ctx, c, http.MethodGet, "/v1/hosts/"+url.PathEscape(host)+"/drain", nil, "drain")
}

// Hosts answers GET /v1/hosts.
func (c *Client) Hosts(ctx context.Context) ([]HostStatus, error) {
	return wrapped[[]HostStatus](ctx, c, http.MethodGet, "/v1/hosts", nil, "hosts")
}

// EnableHost lets the scheduler place servers on host again.
func (c *Client) EnableHost(ctx context.Context, host string) error {
	return c.do(ctx, http.MethodPost, "/v1/hosts/"+url.PathEscape(host)+"/enable", nil, nil)
}

// action posts body to a server's action and returns the server from the
// answer's {"server":…} (zero when the answer has none).
func (c *Client) action(ctx context.Context, id string, body map[string]any) (Server, error) {
	return wrapped[Server](ctx, c, http.MethodPost, "/v1/servers/"+url.PathEscape(id)+"/action", body, "server")
}

func withHost(body map[string]any, host string) map[string]any {
	if host != "" {
		body["host"] = host
	}
	return body
}
