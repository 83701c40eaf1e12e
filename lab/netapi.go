package lab

import (
	"context"
	"net/http"
	"net/url"
)

// The networking wire shapes (Neutron's, under /v1) as far as the network
// scenarios read them.

// IPRange is one allocation pool of an external network.
type IPRange struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Network is a network as the API shows it; NetworkCreate is what an admin
// posts to make an external one.
type Network struct {
	ID              string    `json:"id"`
	Name            string    `json:"name"`
	External        bool      `json:"external"`
	CIDR            string    `json:"cidr"`
	Gateway         string    `json:"gateway"`
	AllocationPools []IPRange `json:"allocation_pools"`
}

// NetworkCreate is POST /v1/networks's body, inside {"network":…}.
type NetworkCreate struct {
	Name            string    `json:"name"`
	External        bool      `json:"external"`
	CIDR            string    `json:"cidr"`
	Gateway         string    `json:"gateway"`
	AllocationPools []IPRange `json:"allocation_pools,omitempty"`
}

// FloatingIP is a floating IP as the API shows it.
type FloatingIP struct {
	ID       string `json:"id"`
	IP       string `json:"ip"`
	Network  string `json:"network"`
	ServerID string `json:"server_id"`
	FixedIP  string `json:"fixed_ip"`
}

// SecurityGroup is a security group with its rules.
type SecurityGroup struct {
	ID    string              `json:"id"`
	Name  string              `json:"name"`
	Rules []SecurityGroupRule `json:"security_group_rules"`
}

// SecurityGroupRule is a rule as the API shows it, and what a create posts
// inside {"security_group_rule":…} (ID empty). Nil fields are open: any
// protocol, any port, any remote.
type SecurityGroupRule struct {
	ID              string  `json:"id,omitempty"`
	SecurityGroupID string  `json:"security_group_id"`
	Direction       string  `json:"direction"`
	Ethertype       string  `json:"ethertype"`
	Protocol        *string `json:"protocol"`
	PortRangeMin    *int    `json:"port_range_min"`
	PortRangeMax    *int    `json:"port_range_max"`
	RemoteIPPrefix  *string `json:"remote_ip_prefix"`
	RemoteGroupID   *string `json:"remote_group_id"`
}

// IngressRule is an IPv4 ingress rule of group for protocol (tcp, udp,
// icmp) on ports min..max (nil: any), from prefix ("" for anywhere).
func IngressRule(group, protocol string, ports *[2]int, prefix string) SecurityGroupRule {
	r := SecurityGroupRule{SecurityGroupID: group, Direction: "ingress", Ethertype: "IPv4", Protocol: &protocol}
	if ports != nil {
		r.PortRangeMin, r.PortRangeMax = &ports[0], &ports[1]
	}
	if prefix != "" {
		r.RemoteIPPrefix = &prefix
	}
	return r
}

// CreateNetwork creates a network (admin).
func (c *Client) CreateNetwork(ctx context.Context, req NetworkCreate) (Network, error) {
	return wrapped[Network](ctx, c, http.MethodPost, "/v1/networks", map[string]any{"network": req}, "network")
}

// CreateFloatingIP allocates a floating IP from network (name or ID).
func (c *Client) CreateFloatingIP(ctx context.Context, network string) (FloatingIP, error) {
	body := map[string]any{"floating_ip": map[string]string{"network": network}}
	return wrapped[FloatingIP](ctx, c, http.MethodPost, "/v1/floating-ips", body, "floating_ip")
}

// SecurityGroups lists the admin project's security groups, its default
// group included.
func (c *Client) SecurityGroups(ctx context.Context) ([]SecurityGroup, error) {
	return wrapped[[]SecurityGroup](ctx, c, http.MethodGet, "/v1/security-groups", nil, "security_groups")
}

// CreateSecurityGroup creates a security group in the admin project.
func (c *Client) CreateSecurityGroup(ctx context.Context, name string) (SecurityGroup, error) {
	body := map[string]any{"security_group": map[string]string{"name": name}}
	return wrapped[SecurityGroup](ctx, c, http.MethodPost, "/v1/security-groups", body, "security_group")
}

// CreateSecurityGroupRule adds a rule; the answer carries its ID.
func (c *Client) CreateSecurityGroupRule(ctx context.Context, r SecurityGroupRule) (SecurityGroupRule, error) {
	body := map[string]any{"security_group_rule": r}
	return wrapped[SecurityGroupRule](ctx, c, http.MethodPost, "/v1/security-group-rules", body, "security_group_rule")
}

// DeleteSecurityGroupRule removes a rule.
func (c *Client) DeleteSecurityGroupRule(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/security-group-rules/"+url.PathEscape(id), nil, nil)
}

// ServerAction posts {"action": action, key: value, …} to a server, e.g.
// ServerAction(ctx, id, "add-floating-ip", "address", ip).
func (c *Client) ServerAction(ctx context.Context, id, action string, kv ...string) error {
	body := map[string]string{"action": action}
	for i := 0; i+1 < len(kv); i += 2 {
		body[kv[i]] = kv[i+1]
	}
	return c.do(ctx, http.MethodPost, "/v1/servers/"+url.PathEscape(id)+"/action", body, nil)
}
