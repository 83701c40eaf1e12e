package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/shoal-project/shoal/api"
)

// Keypairs are their user's. userID "" means the caller's own; another
// user's (by ID) are an admin's.

// KeyPairs lists a user's keypairs ordered by name.
func (c *Client) KeyPairs(ctx context.Context, userID string) ([]api.KeyPair, error) {
	var out api.KeyPairList
	if err := c.do(ctx, http.MethodGet, "/v1/keypairs"+userQuery(userID), nil, &out); err != nil {
		return nil, err
	}
	list := make([]api.KeyPair, 0, len(out.KeyPairs))
	for _, k := range out.KeyPairs {
		list = append(list, k.KeyPair)
	}
	return list, nil
}

// KeyPair returns one of a user's keypairs by name.
func (c *Client) KeyPair(ctx context.Context, name, userID string) (api.KeyPair, error) {
	path, err := refPath("/v1/keypairs/", "keypair name", name)
	if err != nil {
		return api.KeyPair{}, err
	}
	var out api.KeyPairResponse
	err = c.do(ctx, http.MethodGet, path+userQuery(userID), nil, &out)
	return out.KeyPair, err
}

// CreateKeyPair imports req.PublicKey, or without one has a key generated:
// then the answer's PrivateKey holds it, the only copy there will ever be.
func (c *Client) CreateKeyPair(ctx context.Context, req api.KeyPairCreate) (api.KeyPair, error) {
	var out api.KeyPairResponse
	err := c.do(ctx, http.MethodPost, "/v1/keypairs", map[string]any{"keypair": req}, &out)
	return out.KeyPair, err
}

// DeleteKeyPair deletes one of a user's keypairs. Servers keep the key
// they were created with.
func (c *Client) DeleteKeyPair(ctx context.Context, name, userID string) error {
	path, err := refPath("/v1/keypairs/", "keypair name", name)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path+userQuery(userID), nil, nil)
}

// userQuery is the user_id parameter naming another user's keypairs.
func userQuery(userID string) string {
	if userID == "" {
		return ""
	}
	return "?" + url.Values{"user_id": {userID}}.Encode()
}
