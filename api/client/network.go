package client

import (
	"context"
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// Networks lists every network: the tenant network first, then the
// external ones.
func (c *Client) Networks(ctx context.Context) ([]api.Network, error) {
	var out api.NetworkList
	err := c.do(ctx, http.MethodGet, "/v1/networks", nil, &out)
	return out.Networks, err
}

// Network finds a network by ID or (unambiguous) name.
func (c *Client) Network(ctx context.Context, ref string) (api.Network, error) {
	path, err := refPath("/v1/networks/", "network ID or name", ref)
	if err != nil {
		return api.Network{}, err
	}
	var out api.NetworkResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Network, err
}

// CreateNetwork creates an external network (an admin's call).
func (c *Client) CreateNetwork(ctx context.Context, req api.NetworkCreate) (api.Network, error) {
	var out api.NetworkResponse
	err := c.do(ctx, http.MethodPost, "/v1/networks", map[string]any{"network": req}, &out)
	return out.Network, err
}

// DeleteNetwork deletes an external network by ID or name; it is refused
// while floating IPs of it are allocated.
func (c *Client) DeleteNetwork(ctx context.Context, ref string) error {
	path, err := refPath("/v1/networks/", "network ID or name", ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// FloatingIPs lists the caller's project's floating IPs.
func (c *Client) FloatingIPs(ctx context.Context) ([]api.FloatingIP, error) {
	var out api.FloatingIPList
	err := c.do(ctx, http.MethodGet, "/v1/floating-ips", nil, &out)
	return out.FloatingIPs, err
}

// FloatingIP finds one of the caller's floating IPs by ID or address.
func (c *Client) FloatingIP(ctx context.Context, ref string) (api.FloatingIP, error) {
	path, err := refPath("/v1/floating-ips/", "floating IP ID or address", ref)
	if err != nil {
		return api.FloatingIP{}, err
	}
	var out api.FloatingIPResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.FloatingIP, err
}

// CreateFloatingIP allocates a floating IP from the external network
// network (its name or ID): the lowest free address of its pools.
func (c *Client) CreateFloatingIP(ctx context.Context, network string) (api.FloatingIP, error) {
	var out api.FloatingIPResponse
	req := map[string]any{"floating_ip": api.FloatingIPCreate{Network: network}}
	err := c.do(ctx, http.MethodPost, "/v1/floating-ips", req, &out)
	return out.FloatingIP, err
}

// DeleteFloatingIP releases a floating IP by ID or address, detaching it
// first when it is attached.
func (c *Client) DeleteFloatingIP(ctx context.Context, ref string) error {
	path, err := refPath("/v1/floating-ips/", "floating IP ID or address", ref)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// SecurityGroups lists the caller's project's security groups with their
// rules, its default group included.
func (c *Client) SecurityGroups(ctx context.Context) ([]api.SecurityGroup, error) {
	var out api.SecurityGroupList
	err := c.do(ctx, http.MethodGet, "/v1/security-groups", nil, &out)
	return out.SecurityGroups, err
}

// SecurityGroup returns one security group by ID (the API takes no names:
// resolve them from SecurityGroups).
func (c *Client) SecurityGroup(ctx context.Context, id string) (api.SecurityGroup, error) {
	path, err := refPath("/v1/security-groups/", "security group ID", id)
	if err != nil {
		return api.SecurityGroup{}, err
	}
	var out api.SecurityGroupResponse
	err = c.do(ctx, http.MethodGet, path, nil, &out)
	return out.SecurityGroup, err
}

// CreateSecurityGroup creates a security group with Neutron's one rule for a
// new group: all egress (nothing gets in until rules say so).
func (c *Client) CreateSecurityGroup(ctx context.Context, name, description string) (api.SecurityGroup, error) {
	var out api.SecurityGroupResponse
	req := map[string]any{"security_group": api.SecurityGroupCreate{Name: name, Description: description}}
	err := c.do(ctx, http.MethodPost, "/v1/security-groups", req, &out)
	return out.SecurityGroup, err
}

// UpdateSecurityGroup renames a security group (by ID) or changes its
// description; what u leaves nil stays. The default group keeps its name.
func (c *Client) UpdateSecurityGroup(ctx context.Context, id string, u api.SecurityGroupUpdate) (api.SecurityGroup, error) {
	path, err := refPath("/v1/security-groups/", "security group ID", id)
	if err != nil {
		return api.SecurityGroup{}, err
	}
	var out api.SecurityGroupResponse
	err = c.do(ctx, http.MethodPut, path, map[string]any{"security_group": u}, &out)
	return out.SecurityGroup, err
}

// DeleteSecurityGroup deletes a security group by ID; the default group and
// groups servers are in are refused.
func (c *Client) DeleteSecurityGroup(ctx context.Context, id string) error {
	path, err := refPath("/v1/security-groups/", "security group ID", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// CreateSecurityGroupRule adds a rule to a security group.
func (c *Client) CreateSecurityGroupRule(ctx context.Context, req api.SecurityGroupRuleCreate) (api.SecurityGroupRule, error) {
	var out api.SecurityGroupRuleResponse
	err := c.do(ctx, http.MethodPost, "/v1/security-group-rules", map[string]any{"security_group_rule": req}, &out)
	return out.SecurityGroupRule, err
}

// DeleteSecurityGroupRule deletes a rule by ID.
func (c *Client) DeleteSecurityGroupRule(ctx context.Context, id string) error {
	path, err := refPath("/v1/security-group-rules/", "security group rule ID", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// AddFloatingIP attaches the floating IP address to a server (to its first
// fixed IP) and returns the server as it is then.
func (c *Client) AddFloatingIP(ctx context.Context, serverID, address string) (api.ServerDetail, error) {
	return c.ServerAction(ctx, serverID, api.ServerActionRequest{Action: api.ActionAddFloatingIP, Address: address})
}

// RemoveFloatingIP detaches the floating IP address from a server; it stays
// allocated to the project.
func (c *Client) RemoveFloatingIP(ctx context.Context, serverID, address string) (api.ServerDetail, error) {
	return c.ServerAction(ctx, serverID, api.ServerActionRequest{Action: api.ActionRemoveFloatingIP, Address: address})
}

// AddSecurityGroup puts a server in a security group of its project (by
// name or ID).
func (c *Client) AddSecurityGroup(ctx context.Context, serverID, group string) (api.ServerDetail, error) {
	return c.ServerAction(ctx, serverID, api.ServerActionRequest{Action: api.ActionAddSecurityGroup, Name: group})
}

// RemoveSecurityGroup takes a server out of a security group (by name or ID).
func (c *Client) RemoveSecurityGroup(ctx context.Context, serverID, group string) (api.ServerDetail, error) {
	return c.ServerAction(ctx, serverID, api.ServerActionRequest{Action: api.ActionRemoveSecurityGroup, Name: group})
}
