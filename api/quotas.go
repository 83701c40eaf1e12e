package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// Quotas and limits in Nova's shapes (os-quota-sets, limits). The limits
// are enforced inside Apply (fsm.QuotaError); these routes show and set them.

// QuotaSetBody is the body of GET /v1/quota-sets/{project_id} (with ID) and
// of a PUT's answer (without, as Nova).
type QuotaSetBody struct {
	QuotaSet QuotaSetView `json:"quota_set"`
}

// QuotaSetView is a project's quota set with Nova's keys.
type QuotaSetView struct {
	ID string `json:"id,omitempty"`
	fsm.QuotaSet
}

// LimitsBody is the body of GET /v1/limits.
type LimitsBody struct {
	Limits Limits `json:"limits"`
}

// Limits is Nova's limits view: absolute limits with the project's usage;
// no rate limits (an empty list, as Nova since Newton).
type Limits struct {
	Absolute AbsoluteLimits `json:"absolute"`
	Rate     []any          `json:"rate"`
}

// AbsoluteLimits are Nova's names for the quota set and its usage (2.1's
// full set: server and image metadata are both metadata_items, personality
// the injected files; no security group is counted against a quota).
type AbsoluteLimits struct {
	MaxServerMeta           int `json:"maxServerMeta"`
	MaxImageMeta            int `json:"maxImageMeta"`
	MaxPersonality          int `json:"maxPersonality"`
	MaxPersonalitySize      int `json:"maxPersonalitySize"`
	MaxSecurityGroups       int `json:"maxSecurityGroups"`
	MaxSecurityGroupRules   int `json:"maxSecurityGroupRules"`
	TotalSecurityGroupsUsed int `json:"totalSecurityGroupsUsed"`
	MaxTotalInstances       int `json:"maxTotalInstances"`
	MaxTotalCores           int `json:"maxTotalCores"`
	MaxTotalRAMSize         int `json:"maxTotalRAMSize"`
	MaxServerGroups         int `json:"maxServerGroups"`
	MaxServerGroupMembers   int `json:"maxServerGroupMembers"`
	MaxTotalKeypairs        int `json:"maxTotalKeypairs"`
	MaxTotalFloatingIPs     int `json:"maxTotalFloatingIps"`
	TotalInstancesUsed      int `json:"totalInstancesUsed"`
	TotalCoresUsed          int `json:"totalCoresUsed"`
	TotalRAMUsed            int `json:"totalRAMUsed"`
	TotalServerGroupsUsed   int `json:"totalServerGroupsUsed"`
	TotalFloatingIPsUsed    int `json:"totalFloatingIpsUsed"`
}

func (s *Server) showQuota(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q, err := s.ops.Quota(r.Context(), r.PathValue("project_id"))
	s.writeFound(w, r, idx, err, func() any { return QuotaSetBody{q} })
}

func (s *Server) showDefaultQuota(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q, err := s.ops.DefaultQuota(r.Context(), r.PathValue("project_id"))
	s.writeFound(w, r, idx, err, func() any { return QuotaSetBody{q} })
}

// updateQuota is Nova's PUT: a partial quota set; without "force", a limit
// below what the project already uses is refused, as in Nova.
func (s *Server) updateQuota(w http.ResponseWriter, r *http.Request) {
	var body struct {
		QuotaSet map[string]json.RawMessage `json:"quota_set"`
	}
	if err := decodeBody(w, r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, q, err := s.ops.UpdateQuota(r.Context(), r.PathValue("project_id"), body.QuotaSet)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, QuotaSetBody{q})
}

// resetQuota is Nova's DELETE: the project's limits go back to the defaults.
func (s *Server) resetQuota(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.ResetQuota(r.Context(), r.PathValue("project_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	w.WriteHeader(http.StatusAccepted)
}

// defaultOverride sets every limit to its default now (the default
// class's).
func (o *Ops) defaultOverride() fsm.QuotaOverride {
	return o.s.state.QuotaClass(fsm.DefaultQuotaClass).Override()
}

// parseQuotaSet reads the object of {"quota_set":{…}}: known keys only, each an integer
// (or a string of one, as Nova's schema allows) of -1 or more.
func parseQuotaSet(set map[string]json.RawMessage) (fsm.QuotaOverride, bool, error) {
	var o fsm.QuotaOverride
	if set == nil {
		return o, false, fmt.Errorf("%w: the body must be {\"quota_set\":{...}}", fsm.ErrInvalid)
	}
	force := false
	for k, raw := range set {
		if k == "force" {
			if err := json.Unmarshal(raw, &force); err != nil {
				return o, false, fmt.Errorf("%w: force must be a boolean", fsm.ErrInvalid)
			}
			continue
		}
		if !slices.Contains(fsm.QuotaNames(), k) {
			return o, false, fmt.Errorf("%w: unknown quota %q (use %s)", fsm.ErrInvalid, truncate(k), strings.Join(fsm.QuotaNames(), ", "))
		}
		n, err := quotaValue(raw)
		if err != nil {
			return o, false, fmt.Errorf("%w: quota %s: %v", fsm.ErrInvalid, k, err)
		}
		o.Set(k, n)
	}
	return o, force, nil
}

func quotaValue(raw json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, fmt.Errorf("must be an integer, not %s", truncate(string(raw)))
		}
		if n, err = strconv.Atoi(s); err != nil {
			return 0, fmt.Errorf("must be an integer, not %q", truncate(s))
		}
	}
	if n < fsm.Unlimited {
		return 0, fmt.Errorf("must be -1 (unlimited) or more, not %d", n)
	}
	return n, nil
}

// belowUsage refuses a limit below what the project holds, with Nova's message.
func belowUsage(o fsm.QuotaOverride, u fsm.QuotaUsage) error {
	for _, c := range []struct {
		name  string
		limit *int
		used  int
	}{
		{fsm.QuotaInstances, o.Instances, u.Instances}, {fsm.QuotaCores, o.Cores, u.Cores},
		{fsm.QuotaRAM, o.RAM, u.RAM}, {fsm.QuotaServerGroups, o.ServerGroups, u.ServerGroups},
		{fsm.QuotaFloatingIPs, o.FloatingIPs, u.FloatingIPs},
		{fsm.QuotaSecurityGroups, o.SecurityGroups, u.SecurityGroups},
		{fsm.QuotaSecurityGroupRules, o.SecurityGroupRules, u.SecurityGroupRules},
	} {
		if c.limit != nil && *c.limit != fsm.Unlimited && *c.limit < c.used {
			return fmt.Errorf("%w: Quota limit %d for %s must be greater than or equal to already used and reserved %d.",
				fsm.ErrInvalid, *c.limit, c.name, c.used)
		}
	}
	return nil
}

// showLimits is Nova's GET /limits for the caller's project; an admin may
// name another with tenant_id (Nova's limits:other_project policy).
func (s *Server) showLimits(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	var l Limits
	err := onlyParams(q, "tenant_id", "consistent")
	if err == nil {
		l, err = s.ops.Limits(r.Context(), q.Get("tenant_id"))
	}
	s.writeFound(w, r, idx, err, func() any { return LimitsBody{l} })
}
