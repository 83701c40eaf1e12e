package neutron

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Quotas: of Neutron's resources shoal limits floating IPs alone, with
// the same limit Nova's quota set shows (fsm's floating_ips); the others
// are unlimited (-1) since a project cannot make networks, subnets, ports
// or routers at all, and security groups are not counted. The CLI's
// `quota show` reads this next to Nova's, `quota set --floating-ips` writes
// it. Reading another project's quota is an admin's, as in /v1.

// quotaKeys are the resources shown, floatingip first.
var quotaKeys = []string{"floatingip", "network", "subnet", "port", "router", "security_group", "security_group_rule"}

// quotaView is Neutron's {"floatingip":N, "network":-1, …}.
func quotaView(q api.QuotaSetView) map[string]int {
	out := map[string]int{}
	for _, k := range quotaKeys {
		out[k] = fsm.Unlimited
	}
	out["floatingip"] = q.FloatingIPs
	return out
}

func (h handlers) showQuota(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	q, err := h.ops.Quota(r.Context(), r.PathValue("project_id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota": quotaView(q)})
}

// showDefaultQuota is Neutron's get_quota policy too: a project's own
// readers and admins (Nova's defaults are anyone's, and Ops serves those).
func (h handlers) showDefaultQuota(w http.ResponseWriter, r *http.Request) {
	idx := h.ops.Index()
	project := r.PathValue("project_id")
	var q api.QuotaSetView
	var err error
	if p := h.ops.Principal(r.Context()); !p.Admin() && p.ProjectID != project {
		err = named(fmt.Errorf("%w: reading another project's quota", fsm.ErrForbidden), "PolicyNotAuthorized",
			"rule:get_quota is disallowed by policy")
	} else {
		q, err = h.ops.DefaultQuota(r.Context(), project)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota": quotaView(q)})
}

// quotaDetail is one resource of GET /quotas/{id}/details.
type quotaDetail struct {
	Limit    int `json:"limit"`
	Used     int `json:"used"`
	Reserved int `json:"reserved"`
}

// showQuotaDetails is the quota with what the project uses of it.
func (h handlers) showQuotaDetails(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	idx := h.ops.Index()
	project := r.PathValue("project_id")
	q, err := h.ops.Quota(ctx, project)
	var used map[string]int
	if err == nil {
		used, err = h.usage(ctx, project)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := map[string]quotaDetail{}
	for k, limit := range quotaView(q) {
		out[k] = quotaDetail{Limit: limit, Used: used[k]}
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota": out})
}

// usage counts project's floating IPs, ports and security groups and
// rules; the caller may see them, since it may read the project's quota.
func (h handlers) usage(ctx context.Context, project string) (map[string]int, error) {
	used := map[string]int{}
	fips, err := h.ops.FloatingIPs(ctx, api.Scope{All: h.ops.Principal(ctx).Admin()})
	if err != nil {
		return nil, err
	}
	for _, f := range fips {
		if f.ProjectID == project {
			used["floatingip"]++
		}
	}
	ports, err := h.ports(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ports {
		if p.view.ProjectID == project {
			used["port"]++
		}
	}
	groups, err := h.groups(ctx)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.ProjectID == project {
			used["security_group"]++
			used["security_group_rule"] += len(g.Rules)
		}
	}
	return used, nil
}

// quotaUpdate is PUT /quotas/{id}: floatingip is the one limit shoal
// keeps; Neutron's check_limit (refuse a limit below what is used) and
// force (the opposite, Neutron's default) are taken too.
var quotaUpdate = bodySpec{resource: "quota", accepts: append([]string{"check_limit", "force"}, quotaKeys...),
	readOnly: []string{"rbac_policy", "subnetpool", "project_id", "tenant_id"}}

func (h handlers) updateQuota(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	project := r.PathValue("project_id")
	a, err := decode(w, r, quotaUpdate)
	for _, k := range quotaKeys[1:] {
		if err == nil && a.has(k) {
			err = invalid(k, "shoal does not limit %s; only floatingip can be set", k)
		}
	}
	var check bool
	if err == nil {
		check, err = a.boolean("check_limit", false)
	}
	if err == nil {
		_, err = a.boolean("force", true)
	}
	var limit *int
	if err == nil {
		limit, err = a.optInt("floatingip")
	}
	if err == nil && limit != nil && *limit < fsm.Unlimited {
		err = invalid("floatingip", "'%d' is too small - must be at least '-1'", *limit)
	}
	idx := h.ops.Index()
	var q api.QuotaSetView
	if err == nil && limit != nil {
		// Nova's quota set, which holds the one limit: force skips the
		// check against usage, as Neutron does unless asked to check.
		set := map[string]json.RawMessage{fsm.QuotaFloatingIPs: json.RawMessage(strconv.Itoa(*limit)),
			"force": json.RawMessage(strconv.FormatBool(!check))}
		idx, q, err = h.ops.UpdateQuota(ctx, project, set)
		if check && errors.Is(err, fsm.ErrInvalid) {
			// The one check force skips: the limit is below what is used.
			err = withStatus(named(err, "InvalidQuotaValue",
				"Change would make usage less than 0 for the following resources: ['floatingip']."), http.StatusConflict)
		}
	} else if err == nil {
		q, err = h.ops.Quota(ctx, project)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]any{"quota": quotaView(q)})
}
