package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// CreateServer asks for one server, or req.Count of them (named NAME-1 …
// NAME-N), and returns them as created: status BUILD, waiting for the
// scheduler.
func (c *Client) CreateServer(ctx context.Context, req api.ServerCreate) ([]api.ServerDetail, error) {
	var out struct {
		Server  *api.ServerDetail  `json:"server"`
		Servers []api.ServerDetail `json:"servers"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/servers", map[string]any{"server": req}, &out); err != nil {
		return nil, err
	}
	if out.Server != nil {
		return []api.ServerDetail{*out.Server}, nil
	}
	return out.Servers, nil
}

// Servers lists servers oldest first, filtered and paged by f.
func (c *Client) Servers(ctx context.Context, f api.ServerFilter) ([]api.ServerDetail, error) {
	path := "/v1/servers"
	if q := f.Query().Encode(); q != "" {
		path += "?" + q
	}
	var out api.ServerList
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Servers, err
}

// Server returns one server by ID.
func (c *Client) Server(ctx context.Context, id string) (api.ServerDetail, error) {
	path, err := refPath("/v1/servers/", "server ID", id)
	if err != nil {
		return api.ServerDetail{}, err
	}
	var out api.ServerResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Server, err
}

// DeleteServer deletes a server by ID. A server on a host is gone once the
// host has destroyed it; until then it shows task_state deleting.
func (c *Client) DeleteServer(ctx context.Context, id string) error {
	path, err := refPath("/v1/servers/", "server ID", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// ServerAction starts an action (start, stop, reboot, …) and returns the
// server as it is once the action is accepted.
func (c *Client) ServerAction(ctx context.Context, id string, req api.ServerActionRequest) (api.ServerDetail, error) {
	path, err := refPath("/v1/servers/", "server ID", id)
	if err != nil {
		return api.ServerDetail{}, err
	}
	var out api.ServerResponse
	err = c.do(ctx, http.MethodPost, path+"/action", req, &out)
	return out.Server, err
}

// ServerActions returns a server's action log, newest first.
func (c *Client) ServerActions(ctx context.Context, id string) ([]fsm.Action, error) {
	path, err := refPath("/v1/servers/", "server ID", id)
	if err != nil {
		return nil, err
	}
	var out api.ServerActionList
	err = c.do(ctx, http.MethodGet, path+"/actions", nil, &out)
	return out.Actions, err
}

// Images lists images ordered by name.
func (c *Client) Images(ctx context.Context) ([]fsm.Image, error) {
	var out api.ImageList
	err := c.do(ctx, http.MethodGet, "/v1/images", nil, &out)
	return out.Images, err
}

// Image finds an image by ID or (unambiguous) name.
func (c *Client) Image(ctx context.Context, ref string) (fsm.Image, error) {
	path, err := refPath("/v1/images/", "image ID or name", ref)
	if err != nil {
		return fsm.Image{}, err
	}
	var out api.ImageResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Image, err
}

// CreateImage registers image metadata.
func (c *Client) CreateImage(ctx context.Context, req api.ImageCreate) (fsm.Image, error) {
	var out api.ImageResponse
	err := c.do(ctx, http.MethodPost, "/v1/images", req, &out)
	return out.Image, err
}

// DeleteImage deletes an image by ID or name; it is refused while servers use it.
func (c *Client) DeleteImage(ctx context.Context, ref string) error {
	path, err := refPath("/v1/images/", "image ID or name", ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// ServerGroups lists server groups ordered by name.
func (c *Client) ServerGroups(ctx context.Context) ([]fsm.ServerGroup, error) {
	var out api.ServerGroupList
	err := c.do(ctx, http.MethodGet, "/v1/server-groups", nil, &out)
	return out.ServerGroups, err
}

// ServerGroup finds a server group by ID or (unambiguous) name.
func (c *Client) ServerGroup(ctx context.Context, ref string) (fsm.ServerGroup, error) {
	path, err := refPath("/v1/server-groups/", "server group ID or name", ref)
	if err != nil {
		return fsm.ServerGroup{}, err
	}
	var out api.ServerGroupResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.ServerGroup, err
}

// CreateServerGroup creates a server group with one of Nova's policies.
func (c *Client) CreateServerGroup(ctx context.Context, name, policy string) (fsm.ServerGroup, error) {
	var out api.ServerGroupResponse
	req := map[string]any{"server_group": api.ServerGroupCreate{Name: name, Policy: policy}}
	err := c.do(ctx, http.MethodPost, "/v1/server-groups", req, &out)
	return out.ServerGroup, err
}

// DeleteServerGroup deletes a server group by ID or name; its servers stay.
func (c *Client) DeleteServerGroup(ctx context.Context, ref string) error {
	path, err := refPath("/v1/server-groups/", "server group ID or name", ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// DisableHost stops new servers from being placed on a host.
func (c *Client) DisableHost(ctx context.Context, name, reason string) (api.Host, error) {
	return c.setHost(ctx, name, "/disable", api.HostDisable{Reason: reason})
}

// EnableHost lets the scheduler place new servers on a host again.
func (c *Client) EnableHost(ctx context.Context, name string) (api.Host, error) {
	return c.setHost(ctx, name, "/enable", nil)
}

// ForceHostDown sets or clears a host's forced_down flag.
func (c *Client) ForceHostDown(ctx context.Context, name string, down bool) (api.Host, error) {
	return c.setHost(ctx, name, "/force-down", api.HostForceDown{ForcedDown: down})
}

// EvacuateHost rebuilds every server of a down host elsewhere (on target
// when it is not empty).
func (c *Client) EvacuateHost(ctx context.Context, name, target string) ([]api.ServerDetail, error) {
	path, err := refPath("/v1/hosts/", "host name", name)
	if err != nil {
		return nil, err
	}
	var out api.ServerList
	err = c.do(ctx, http.MethodPost, path+"/evacuate", api.HostEvacuate{Host: target}, &out)
	return out.Servers, err
}

func (c *Client) setHost(ctx context.Context, name, verb string, body any) (api.Host, error) {
	path, err := refPath("/v1/hosts/", "host name", name)
	if err != nil {
		return api.Host{}, err
	}
	var out api.HostResponse
	err = c.do(ctx, http.MethodPost, path+verb, body, &out)
	return out.Host, err
}

// Hypervisors lists every host's capacity against its claims.
func (c *Client) Hypervisors(ctx context.Context) ([]api.Hypervisor, error) {
	var out api.HypervisorList
	err := c.do(ctx, http.MethodGet, "/v1/hypervisors", nil, &out)
	return out.Hypervisors, err
}

// Hypervisor returns one host's capacity against its claims.
func (c *Client) Hypervisor(ctx context.Context, name string) (api.Hypervisor, error) {
	path, err := refPath("/v1/hypervisors/", "hypervisor name", name)
	if err != nil {
		return api.Hypervisor{}, err
	}
	var out api.HypervisorResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Hypervisor, err
}

// HypervisorStats sums every hypervisor.
func (c *Client) HypervisorStats(ctx context.Context) (api.HypervisorStatistics, error) {
	var out api.HypervisorStatisticsResponse
	err := c.do(ctx, http.MethodGet, "/v1/hypervisors/statistics", nil, &out)
	return out.Statistics, err
}

// ConsoleLog returns the tail of a server's serial console (all of it, up to
// the server's limit, when lines is 0).
func (c *Client) ConsoleLog(ctx context.Context, id string, lines int) (string, error) {
	path := "/v1/servers/" + url.PathEscape(id) + "/console-log"
	if lines > 0 {
		path += "?lines=" + strconv.Itoa(lines)
	}
	var out api.ConsoleOutput
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Output, err
}
