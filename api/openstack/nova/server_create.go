package nova

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// POST /servers: Nova's body at 2.1 (schemas/servers.py "create"), checked
// as its schema checks it, then mapped onto api.ServerCreate; Ops keeps
// every rule of a create (quotas, the image fitting the flavor, keys,
// groups, user data). What shoal cannot do (volumes, file injection, a
// second port, a fixed IP of one's choosing) is refused with 400 rather
// than ignored.

// createKeys21 are the members of "server" Nova's 2.1 schema allows
// (createKeys gives those of a later version).
var createKeys21 = []string{"name", "imageRef", "flavorRef", "adminPass", "metadata", "networks", "OS-DCF:diskConfig",
	"accessIPv4", "accessIPv6", "personality", "availability_zone", "block_device_mapping", "block_device_mapping_v2",
	"config_drive", "key_name", "min_count", "max_count", "return_reservation_id", "security_groups", "user_data"}

// hintKeys are where the scheduler hints may be given (Nova reads either).
var hintKeys = []string{"os:scheduler_hints", "OS-SCH-HNT:scheduler_hints"}

// createRequest is a checked create body.
type createRequest struct {
	api.ServerCreate
	minCount, maxCount int
	reservationID      bool             // return_reservation_id: answer with it, not the server
	adminPass          string           // Nova's answer echoes it (or one it made up)
	access             api.ServerUpdate // accessIPv4/6, set once the servers exist
	networks           []networkRequest
	groups             []securityGroup // as the body gave them (nil: not given)
	version            osapi.Version   // the microversion the body is read at
	node               string          // 2.74's hypervisor_hostname
}

// networkRequest is an entry of "networks".
type networkRequest struct {
	uuid, port, fixedIP string
}

// createResponse is Nova's answer to a create: the first server, briefly.
type createResponse struct {
	Server struct {
		ID             string          `json:"id"`
		Links          []osapi.Link    `json:"links"`
		DiskConfig     string          `json:"OS-DCF:diskConfig"`
		SecurityGroups []securityGroup `json:"security_groups"`
		AdminPass      string          `json:"adminPass"`
	} `json:"server"`
}

func (m *Module) createServers(w http.ResponseWriter, r *http.Request) {
	req, err := decodeCreate(w, r)
	if err == nil {
		err = m.checkCreate(r, &req)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	idx, created, err := m.ops.CreateServers(r.Context(), req.ServerCreate)
	for k := 0; err == nil && req.access != (api.ServerUpdate{}) && k < len(created); k++ {
		// api.ServerCreate has no access addresses: they are recorded on
		// the new servers as a PUT would record them.
		idx, _, err = m.ops.UpdateServer(r.Context(), created[k].ID, req.access)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	if req.reservationID {
		api.WriteJSON(w, http.StatusAccepted, map[string]string{"reservation_id": reservationID(api.RequestID(r.Context()))})
		return
	}
	var out createResponse
	s := &out.Server
	s.ID, s.Links, s.DiskConfig, s.AdminPass = created[0].ID, links(r, "/servers/"+created[0].ID), "MANUAL", req.adminPass
	s.SecurityGroups = req.groups
	if s.SecurityGroups == nil {
		s.SecurityGroups = []securityGroup{{Name: "default"}}
	}
	w.Header().Set("Location", s.Links[0].Href)
	api.WriteJSON(w, http.StatusAccepted, out)
}

// checkCreate refuses, as Nova does, what the body asks that the state
// cannot give: a flavor named by anything but its ID, a network other than
// the tenant network (an external one is Nova's 403 for a member; servers
// have no port on one here, so an admin gets 400), a port or a fixed IP.
func (m *Module) checkCreate(r *http.Request, req *createRequest) error {
	if req.Image == "" {
		return badRequest("Missing imageRef attribute")
	}
	f, err := m.ops.Flavor(r.Context(), req.Flavor)
	if errors.Is(err, fsm.ErrNotFound) || err == nil && f.ID != req.Flavor {
		return badRequest("Flavor %s could not be found.", req.Flavor)
	}
	if err != nil {
		return err
	}
	tenant := osapi.TenantNetworkID(m.ops.ClusterID())
	for _, n := range req.networks {
		switch {
		case n.port != "":
			return badRequest("Port id %s could not be found.", n.port)
		case n.uuid != tenant && n.uuid != fsm.DefaultNetworkID:
			return m.otherNetwork(r, n.uuid)
		case n.fixedIP != "":
			return badRequest("Requesting fixed IP %s is not supported: a server's fixed IP is allocated from its network's pool.", n.fixedIP)
		}
	}
	if len(req.networks) > 1 {
		return badRequest("A server has one port, on the tenant network: %d networks were requested.", len(req.networks))
	}
	return nil
}

// otherNetwork is why a server cannot have a port on network id.
func (m *Module) otherNetwork(r *http.Request, id string) error {
	n, err := m.ops.Network(r.Context(), id)
	switch {
	case err != nil || n.ID != id || !n.External:
		return badRequest("Network %s could not be found.", id)
	case !isAdmin(r):
		return failure(http.StatusForbidden, "It is not allowed to create an interface on external network %s", id)
	}
	return badRequest("Network %s is external: a server's port is on the tenant network, and floating IPs reach it from %s.", id, id)
}

// decodeCreate checks a create body as Nova's 2.1 schema does.
func decodeCreate(w http.ResponseWriter, r *http.Request) (createRequest, error) {
	req := createRequest{version: osapi.Requested(r.Context())}
	top, err := readObject(w, r)
	if err == nil {
		err = topKeys(top, "server", hintKeys...)
	}
	var srv map[string]json.RawMessage
	if err == nil {
		srv, err = member(top, "server", createKeys(req.version)...)
	}
	if err == nil {
		err = required("server", srv, createRequired(req.version)...)
	}
	if err != nil {
		return req, err
	}
	req.minCount, req.maxCount = 1, 0
	for k, v := range srv {
		if err := req.member(k, v); err != nil {
			return req, err
		}
	}
	if req.maxCount == 0 {
		req.maxCount = req.minCount
	}
	if req.minCount > req.maxCount {
		return req, badRequest("min_count must be <= max_count")
	}
	req.Count = req.maxCount
	if req.node != "" {
		if req.Host != "" && req.Host != req.node {
			return req, badRequest("Compute host %s could not be found.", req.Host)
		}
		req.Host = req.node
	}
	for _, k := range hintKeys {
		if raw, ok := top[k]; ok {
			if req.ServerGroup, err = groupHint(k, raw); err != nil {
				return req, err
			}
		}
	}
	if req.adminPass == "" {
		req.adminPass = password()
	}
	return req, nil
}

// member checks one member of "server" and keeps what it says.
func (req *createRequest) member(k string, v json.RawMessage) error {
	var err error
	switch k {
	case "name":
		req.Name, err = name(k, v)
	case "imageRef":
		if s, terr := stringField(k, v); terr == nil && s == "" {
			return nil
		}
		if req.Image, err = uuidText(k, v); err != nil {
			err = invalidInput(k, v, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(v)))
		}
	case "flavorRef":
		req.Flavor, err = flavorRef(k, v)
	case "adminPass":
		req.adminPass, err = stringField(k, v)
	case "metadata":
		req.Metadata, err = metadata(k, v)
	case "networks":
		req.networks, err = req.networksAt(k, v)
	case "OS-DCF:diskConfig":
		var s string
		if s, err = stringField(k, v); err == nil && s != "AUTO" && s != "MANUAL" {
			err = invalidInput(k, v, fmt.Sprintf("'%s' is not one of ['AUTO', 'MANUAL']", s))
		}
	case "accessIPv4":
		a, aerr := address(k, v, false)
		req.access.AccessIPv4, err = &a, aerr
	case "accessIPv6":
		a, aerr := address(k, v, true)
		req.access.AccessIPv6, err = &a, aerr
	case "personality", "block_device_mapping", "block_device_mapping_v2":
		err = refuseList(k, v)
	case "availability_zone":
		req.AvailabilityZone, err = name(k, v)
	case "config_drive":
		req.ConfigDrive, err = boolField(k, v)
	case "key_name":
		req.KeyName, err = name(k, v)
	case "min_count":
		req.minCount, err = intField(k, v, 1)
	case "max_count":
		req.maxCount, err = intField(k, v, 1)
	case "return_reservation_id":
		req.reservationID, err = boolField(k, v)
	case "security_groups":
		err = req.securityGroups(k, v)
	case "user_data":
		req.UserData, err = boundedText(k, v, 0, 65535)
	default:
		err = req.laterMember(k, v)
	}
	return err
}

// flavorRef is a flavor ID, given as a string or a number, or a URL whose
// last segment is one (Nova reads all three).
func flavorRef(k string, v json.RawMessage) (string, error) {
	var n json.Number
	if json.Unmarshal(v, &n) == nil && !isKind(v, '"') {
		return n.String(), nil
	}
	s, err := stringField(k, v)
	if err != nil {
		return "", invalidInput(k, v, fmt.Sprintf("%s is not of type 'string', 'integer'", truncated(v)))
	}
	if s == "" {
		return "", invalidInput(k, v, fmt.Sprintf("'' is too short"))
	}
	return lastSegment(s), nil
}

// networks checks the list of requested networks; itemKeys are the
// members an entry may have at the body's version.
func networks(k string, v json.RawMessage, itemKeys ...string) ([]networkRequest, error) {
	items, err := asList(k, v)
	if err != nil {
		return nil, err
	}
	var out []networkRequest
	for _, item := range items {
		b, err := asObject(k, item)
		if err == nil {
			err = onlyKeys(k, b, itemKeys...)
		}
		if err != nil {
			return nil, err
		}
		var n networkRequest
		if raw, ok := b["fixed_ip"]; ok {
			if n.fixedIP, err = address("fixed_ip", raw, false); err != nil {
				if n.fixedIP, err = address("fixed_ip", raw, true); err != nil {
					return nil, err
				}
			}
		}
		if raw, ok := b["port"]; ok && !isNull(raw) {
			if n.port, err = uuidText("port", raw); err != nil {
				return nil, err
			}
		}
		if raw, ok := b["uuid"]; ok {
			if n.uuid, err = stringField("uuid", raw); err != nil {
				return nil, err
			}
		}
		if raw, ok := b["tag"]; ok {
			if _, err = deviceTag("tag", raw); err != nil {
				return nil, err
			}
		}
		if n.port == "" && n.uuid == "" {
			return nil, badRequest("Bad network format: missing 'uuid'")
		}
		out = append(out, n)
	}
	return out, nil
}

// securityGroups keeps the groups' names, each once (Nova's set), and the
// list as given, which the answer echoes.
func (req *createRequest) securityGroups(k string, v json.RawMessage) error {
	items, err := asList(k, v)
	if err != nil {
		return err
	}
	req.groups = []securityGroup{}
	for _, item := range items {
		b, err := asObject(k, item)
		if err == nil {
			err = onlyKeys(k, b, "name")
		}
		if err != nil {
			return err
		}
		g := securityGroup{}
		if raw, ok := b["name"]; ok {
			if g.Name, err = name("name", raw); err != nil {
				return err
			}
		}
		req.groups = append(req.groups, g)
		if g.Name != "" && !slices.ContainsFunc(req.SecurityGroups, func(s api.SecurityGroupRef) bool { return s.Name == g.Name }) {
			req.SecurityGroups = append(req.SecurityGroups, api.SecurityGroupRef{Name: g.Name})
		}
	}
	return nil
}

// refuseList takes an empty list (nothing asked) and refuses any entry:
// shoal boots every server from its image, with no volumes and no
// injected files.
func refuseList(k string, v json.RawMessage) error {
	items, err := asList(k, v)
	if err != nil || len(items) == 0 {
		return err
	}
	if k == "personality" {
		return badRequest("Personality file injection is not supported: pass files in user_data or the config drive.")
	}
	return badRequest("Block device mapping is not supported: servers boot from their image's local disk.")
}

// groupHint is the server group of the scheduler hints ("" for none): a
// UUID, or a list of them of which Nova takes the first. Other hints are
// ignored, as Nova ignores those its enabled filters do not read.
func groupHint(k string, v json.RawMessage) (string, error) {
	hints, err := asObject(k, v)
	if err != nil {
		return "", err
	}
	raw, ok := hints["group"]
	if !ok {
		return "", nil
	}
	var list []json.RawMessage
	if isKind(raw, '[') && json.Unmarshal(raw, &list) == nil {
		if len(list) == 0 {
			return "", nil
		}
		raw = list[0]
	}
	g, err := uuidText("group", raw)
	if err != nil {
		return "", invalidInput("group", raw, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(raw)))
	}
	return g, nil
}

// reservationID is Nova's "r-" and eight characters, derived from the
// request that created the servers (the servers log it as their create).
func reservationID(requestID string) string {
	sum := sha256.Sum256([]byte(requestID))
	return "r-" + hex.EncodeToString(sum[:4])
}

// passwordChars are Nova's generate_password symbols: letters and digits
// without the ones easily mistaken for each other.
const passwordChars = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// password is the adminPass Nova answers with when none was given: shoal
// sets no guest password (keys and user data are how one gets in), but
// clients expect the field.
func password() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	for k := range b {
		b[k] = passwordChars[int(b[k])%len(passwordChars)]
	}
	return string(b)
}

// topKeys refuses a body with members other than want and also, and one
// without want: the top level of Nova's schema, whose complaints name no
// field.
func topKeys(top map[string]json.RawMessage, want string, also ...string) error {
	for k := range top {
		if k != want && !slices.Contains(also, k) {
			return badRequest("Additional properties are not allowed ('%s' was unexpected)", k)
		}
	}
	if _, ok := top[want]; !ok {
		return badRequest("'%s' is a required property", want)
	}
	return nil
}
