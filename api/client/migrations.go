package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Migrations lists the migrations f selects (its InstanceID, Host, Status
// and Kind), newest first: every one for an admin, those of the caller's
// project's servers for anyone else.
func (c *Client) Migrations(ctx context.Context, f api.MigrationFilter) ([]fsm.Migration, error) {
	path := "/v1/migrations"
	if q := f.Query().Encode(); q != "" {
		path += "?" + q
	}
	var out api.MigrationList
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Migrations, err
}

// Migration returns one migration by ID.
func (c *Client) Migration(ctx context.Context, id uint64) (fsm.Migration, error) {
	var out api.MigrationResponse
	err := c.do(ctx, http.MethodGet, "/v1/migrations/"+strconv.FormatUint(id, 10), nil, &out)
	return out.Migration, err
}
