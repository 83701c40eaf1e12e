package client

import (
	"context"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/api"
)

// CreateJoinToken makes a join token that admits uses nodes (0: one) for ttl
// (0: the cluster's default, an hour). The answer is the only place the
// token itself ever appears.
func (c *Client) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int) (api.NewJoinToken, error) {
	var req api.JoinTokenRequest
	if ttl != 0 {
		req.TTL = ttl.String()
	}
	if uses != 0 {
		req.Uses = &uses
	}
	var out api.JoinTokenResponse
	err := c.do(ctx, http.MethodPost, "/v1/cluster/join-tokens", req, &out)
	return out.JoinToken, err
}

// JoinTokens lists the join tokens, spent and revoked ones too, without
// their secrets.
func (c *Client) JoinTokens(ctx context.Context) ([]api.JoinTokenInfo, error) {
	var out api.JoinTokenList
	err := c.do(ctx, http.MethodGet, "/v1/cluster/join-tokens", nil, &out)
	return out.JoinTokens, err
}

// RevokeJoinToken stops the join token id from admitting anyone more.
func (c *Client) RevokeJoinToken(ctx context.Context, id string) error {
	path, err := refPath("/v1/cluster/join-tokens/", "join token ID", id)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}

// RotateGossipKey replaces the cluster's gossip key and returns the new
// key's ID once every live member uses it.
func (c *Client) RotateGossipKey(ctx context.Context) (string, error) {
	var out api.GossipKeyResponse
	err := c.do(ctx, http.MethodPost, "/v1/cluster/gossip-key/rotate", nil, &out)
	return out.GossipKey.ID, err
}

// RemoveHost takes a host out of the cluster for good (its certificates are
// revoked; it needs a new join token to come back).
func (c *Client) RemoveHost(ctx context.Context, name string) error {
	path, err := refPath("/v1/hosts/", "host name", name)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil)
}
