package nova

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Nova's security group rules: always ingress, from a prefix (cidr,
// 0.0.0.0/0 when none) or from a remote group (group_id, which wins).
// Nova reads the loosely typed fields (ports, protocol, cidr) itself
// before Neutron sees the rule: that reading, with its messages, is the
// dialect's; the rule's own checks stay fsm's, through api.Ops.

// ruleBody is Nova's security_group_rule, its fields as sent.
type ruleBody struct {
	parent, group                string
	protocol, from, to, cidr     json.RawMessage
	groupGiven, parentIsNotFound bool
}

// decodeRule reads {"security_group_rule":{…}}: parent_group_id is a
// required UUID, group_id a UUID or null; other members are ignored, as
// Nova's schema lets them be.
func decodeRule(w http.ResponseWriter, r *http.Request) (ruleBody, error) {
	var b ruleBody
	body, err := readObject(w, r)
	if err != nil {
		return b, err
	}
	raw, ok := body["security_group_rule"]
	if !ok {
		return b, invalidInput("", nil, "'security_group_rule' is a required property")
	}
	var sr map[string]json.RawMessage
	if json.Unmarshal(raw, &sr) != nil || sr == nil {
		return b, invalidInput("security_group_rule", raw, truncated(raw)+" is not of type 'object'")
	}
	if err := required("security_group_rule", sr, "parent_group_id"); err != nil {
		return b, err
	}
	if b.parent, err = ruleGroupRef("parent_group_id", sr["parent_group_id"], false); err != nil {
		return b, err
	}
	if raw, ok := sr["group_id"]; ok && string(raw) != "null" {
		if b.group, err = ruleGroupRef("group_id", raw, true); err != nil {
			return b, err
		}
		b.groupGiven = true
	}
	b.protocol, b.from, b.to, b.cidr = sr["ip_protocol"], sr["from_port"], sr["to_port"], sr["cidr"]
	return b, nil
}

// ruleGroupRef reads a group's ID in a rule's body: a UUID; an integer
// (nova-network's IDs, which Tempest without Neutron sends) names no group
// and is 404; anything else is Nova's schema 400.
func ruleGroupRef(field string, raw json.RawMessage, nullable bool) (string, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			if _, err := n.Int64(); err == nil {
				return "", notFound("Security group %s not found.", n)
			}
		}
		kind := "'string'"
		if nullable {
			kind = "'string', 'null'"
		}
		return "", invalidInput(field, raw, truncated(raw)+" is not of type "+kind)
	}
	if u, err := uuid.Parse(s); err == nil {
		return u.String(), nil
	}
	if intLike.MatchString(s) {
		return "", notFound("Security group %s not found.", s)
	}
	return "", invalidInput(field, raw, "'"+s+"' is not a 'uuid'")
}

// pyText is what Python's str() makes of a JSON value Nova reads: a
// string as it is, null as "", anything else its JSON text.
func pyText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if raw == nil || string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// present is Nova's "is not None" of an optional field.
func present(raw json.RawMessage) bool { return raw != nil && string(raw) != "null" }

// pyInt is Python's int() of a port: an integer, a number (truncated) or a
// string of an integer.
func pyInt(raw json.RawMessage) (int, bool) {
	var f float64
	if json.Unmarshal(raw, &f) == nil && !math.IsInf(f, 0) && math.Abs(f) < 1<<31 {
		return int(f), true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		return n, err == nil
	}
	return 0, false
}

// ruleRequest builds the Neutron rule Nova would send for b
// (security_group_api._new_ingress_rule and its conversion): its
// messages are Nova's.
func ruleRequest(b ruleBody) (api.SecurityGroupRuleCreate, error) {
	req := api.SecurityGroupRuleCreate{SecurityGroupID: b.parent, Direction: fsm.DirectionIngress, Ethertype: fsm.EthertypeIPv4}
	protocol := pyText(b.protocol)
	upper := strings.ToUpper(protocol)
	hasFrom, hasTo := present(b.from), present(b.to)
	var from, to int
	if b.groupGiven {
		req.RemoteGroupID = b.group
		switch {
		case hasFrom || hasTo:
		case upper == "ICMP":
			from, to, hasFrom, hasTo = -1, -1, true, true
		case upper == "TCP" || upper == "UDP":
			from, to, hasFrom, hasTo = 1, 65535, true, true
		}
	} else {
		cidr, err := ruleCIDR(b.cidr)
		if err != nil {
			return req, err
		}
		req.RemoteIPPrefix = cidr
		if p := netip.MustParsePrefix(cidr); p.Bits() == 0 && !p.Addr().IsUnspecified() {
			return req, badRequest("Bad prefix for network in cidr %s", cidr)
		}
		if p := netip.MustParsePrefix(cidr); p.Addr().Is6() {
			req.Ethertype = "IPv6" // fsm refuses it: shoal's groups are IPv4's
		}
	}
	if protocol == "" || !hasFrom || !hasTo {
		if !b.groupGiven {
			return req, badRequest("Not enough parameters to build a valid rule.")
		}
		return req, nil
	}
	if present(b.from) && present(b.to) { // not the defaults above
		var okFrom, okTo bool
		from, okFrom = pyInt(b.from)
		to, okTo = pyInt(b.to)
		if !okFrom || !okTo {
			if upper == "ICMP" {
				return req, badRequest("Invalid input received: Type and Code must be integers for ICMP protocol type")
			}
			return req, badRequest("Invalid input received: To and From ports must be integers")
		}
	}
	switch {
	case upper != "TCP" && upper != "UDP" && upper != "ICMP":
		return req, badRequest("Invalid IP protocol %s.", protocol)
	case upper != "ICMP" && from > to:
		return req, badRequest("Invalid port range %d:%d. Former value cannot be greater than the later", from, to)
	case upper != "ICMP" && (from < 1 || to > 65535):
		return req, badRequest("Invalid port range %d:%d. Valid %s ports should be between 1-65535", from, to, upper)
	case upper == "ICMP" && (from < -1 || from > 255 || to < -1 || to > 255):
		return req, badRequest("Invalid port range %d:%d. For ICMP, the type:code must be valid", from, to)
	}
	req.Protocol = protocol
	if from != -1 {
		req.PortRangeMin = &from
	}
	if to != -1 {
		req.PortRangeMax = &to
	}
	return req, nil
}

// ruleCIDR is Nova's parse_cidr: none is 0.0.0.0/0; else a URL-quoted
// network with its prefix length.
func ruleCIDR(raw json.RawMessage) (string, error) {
	text := pyText(raw)
	if text == "" || string(raw) == "false" || string(raw) == "0" {
		return "0.0.0.0/0", nil
	}
	cidr, err := url.PathUnescape(text)
	if err != nil {
		cidr = text
	}
	if _, err := netip.ParsePrefix(cidr); err != nil {
		return "", badRequest("%s is not a valid IP network.", cidr)
	}
	return cidr, nil
}

func (m *Module) createSecurityGroupRule(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	b, err := decodeRule(w, r)
	var parent api.SecurityGroup
	if err == nil {
		parent, err = m.ops.SecurityGroup(ctx, b.parent)
		err = groupErr(b.parent, err)
	}
	var remote api.SecurityGroup
	if err == nil && b.groupGiven {
		remote, err = m.ops.SecurityGroup(ctx, b.group)
		err = groupErr(b.group, err)
	}
	var req api.SecurityGroupRuleCreate
	if err == nil {
		req, err = ruleRequest(b)
	}
	var rule api.SecurityGroupRule
	if err == nil {
		_, rule, err = m.ops.CreateSecurityGroupRule(ctx, req)
		if errors.Is(err, fsm.ErrConflict) {
			err = badRequest("This rule already exists in group %s", parent.ID)
		}
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	names := m.groupNames(ctx, parent)
	if b.groupGiven {
		names = m.groupNames(ctx, parent, remote)
	}
	view, _ := names.rule(rule)
	api.WriteJSON(w, http.StatusOK, map[string]SecurityGroupRule{"security_group_rule": view})
}

// deleteSecurityGroupRule answers 202.
func (m *Module) deleteSecurityGroupRule(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ref, err := groupID(id, "Security group rule")
	if err == nil {
		_, err = m.ops.DeleteSecurityGroupRule(r.Context(), ref)
	}
	if errors.Is(err, fsm.ErrNotFound) {
		err = notFound("Security group rule %s not found.", id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
