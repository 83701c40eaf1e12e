package client

import (
	"context"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// HostDrain is how the drain of a host goes.
func (c *Client) HostDrain(ctx context.Context, name string) (fsm.DrainProgress, error) {
	return c.drain(ctx, http.MethodGet, name)
}

// StartHostDrain disables a host and has the leader move its servers away.
func (c *Client) StartHostDrain(ctx context.Context, name string) (fsm.DrainProgress, error) {
	return c.drain(ctx, http.MethodPost, name)
}

// CancelHostDrain stops a host's drain; the host stays disabled.
func (c *Client) CancelHostDrain(ctx context.Context, name string) (fsm.DrainProgress, error) {
	return c.drain(ctx, http.MethodDelete, name)
}

func (c *Client) drain(ctx context.Context, method, name string) (fsm.DrainProgress, error) {
	path, err := refPath("/v1/hosts/", "host name", name)
	if err != nil {
		return fsm.DrainProgress{}, err
	}
	var out api.HostDrainResponse
	err = c.do(ctx, method, path+"/drain", nil, &out)
	return out.Drain, err
}
