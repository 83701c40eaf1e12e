package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// QuotaSet is Nova's quota_set: a project's limits and, on a read, the
// project's ID (the API's type: one home for the shape).
type QuotaSet = api.QuotaSetView

// QuotaUpdate is the body of PUT /quota-sets/{project_id}: the limits
// given change, the others stay (fsm's partial quota set).
type QuotaUpdate = fsm.QuotaOverride

// Limits is Nova's GET /limits: the caller's project's absolute limits and
// what it uses of them (the API's types).
type (
	Limits         = api.Limits
	AbsoluteLimits = api.AbsoluteLimits
)

// Quota returns the quota set of the project with that ID (Nova takes IDs
// only: resolve a name with Project first).
func (c *Client) Quota(ctx context.Context, projectID string) (QuotaSet, error) {
	return c.quota(ctx, projectID, "")
}

// DefaultQuota returns the quota set a project without overrides has.
func (c *Client) DefaultQuota(ctx context.Context, projectID string) (QuotaSet, error) {
	return c.quota(ctx, projectID, "/defaults")
}

func (c *Client) quota(ctx context.Context, projectID, suffix string) (QuotaSet, error) {
	path, err := refPath("/v1/quota-sets/", "project ID", projectID)
	if err != nil {
		return QuotaSet{}, err
	}
	var out struct {
		QuotaSet QuotaSet `json:"quota_set"`
	}
	err = c.do(ctx, http.MethodGet, path+suffix, nil, &out)
	return out.QuotaSet, err
}

// SetQuota changes the limits u gives for the project with that ID and
// returns its whole quota set after the change.
func (c *Client) SetQuota(ctx context.Context, projectID string, u QuotaUpdate) (QuotaSet, error) {
	path, err := refPath("/v1/quota-sets/", "project ID", projectID)
	if err != nil {
		return QuotaSet{}, err
	}
	var out struct {
		QuotaSet QuotaSet `json:"quota_set"`
	}
	err = c.do(ctx, http.MethodPut, path, map[string]any{"quota_set": u}, &out)
	if out.QuotaSet.ID == "" && err == nil {
		out.QuotaSet.ID = projectID // Nova's PUT answers without the ID
	}
	return out.QuotaSet, err
}

// Limits returns the limits and usage of the caller's project, or, for an
// admin, of the project with ID projectID (Nova's ?tenant_id=); "" means the
// caller's.
func (c *Client) Limits(ctx context.Context, projectID string) (Limits, error) {
	path := "/v1/limits"
	if projectID != "" {
		path += "?" + url.Values{"tenant_id": {projectID}}.Encode()
	}
	var out struct {
		Limits Limits `json:"limits"`
	}
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Limits, err
}
