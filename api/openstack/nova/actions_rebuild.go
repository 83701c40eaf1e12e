package nova

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// rebuild: {"rebuild": {"imageRef": …, "name": …, "metadata": …,
// "adminPass": …, "accessIPv4": …, …}} → 202 with the server's common view
// (as PUT's, at 2.1) and the adminPass, and Location. The server keeps its
// ID, flavor and addresses and gets a fresh disk from the image on its
// host (Ops.RebuildServer has the rules). preserve_ephemeral has nothing
// to preserve (shoal's flavors have no ephemeral disk); file injection is
// refused as at create.
type rebuildCall struct {
	req       api.ServerRebuild
	access    api.ServerUpdate
	adminPass string
}

// rebuildKeys are the members of Nova's rebuild schema at v: 2.19 adds
// description, 2.54 key_name, 2.57 user_data and drops personality, 2.63
// trusted_image_certificates (refused unless empty, as at create), 2.90
// hostname (2.94's longer form).
func rebuildKeys(v osapi.Version) []string {
	keys := []string{"name", "imageRef", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig",
		"accessIPv4", "accessIPv6"}
	if !v.AtLeast(2, 57) {
		keys = append(keys, "personality")
	} else {
		keys = append(keys, "user_data")
	}
	if v.AtLeast(2, 19) {
		keys = append(keys, "description")
	}
	if v.AtLeast(2, 54) {
		keys = append(keys, "key_name")
	}
	if v.AtLeast(2, 63) {
		keys = append(keys, "trusted_image_certificates")
	}
	if v.AtLeast(2, 90) {
		keys = append(keys, "hostname")
	}
	return keys
}

// nullableText is a string member that may be null ("" then), of at most
// max characters.
func nullableText(k string, raw json.RawMessage, max int) (*string, error) {
	s := ""
	if isNull(raw) {
		return &s, nil
	}
	s, err := boundedText(k, raw, 0, max)
	return &s, err
}

func parseRebuild(r *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"imageRef"}, rebuildKeys(osapi.Requested(r.Context()))...)
	if err != nil {
		return nil, err
	}
	var c rebuildCall
	for key, raw := range b {
		var s string
		switch key {
		case "name":
			s, err = name(key, raw)
			c.req.Name = &s
		case "imageRef":
			c.req.Image, err = uuidText(key, raw)
		case "adminPass":
			c.adminPass, err = stringField(key, raw)
		case "metadata":
			c.req.Metadata, err = metadata(key, raw)
		case "preserve_ephemeral":
			_, err = boolField(key, raw)
		case "accessIPv4", "accessIPv6":
			s, err = address(key, raw, key == "accessIPv6")
			if key == "accessIPv4" {
				c.access.AccessIPv4 = &s
			} else {
				c.access.AccessIPv6 = &s
			}
		case "OS-DCF:diskConfig":
			_, err = enum(key, raw, "AUTO", "MANUAL")
		case "personality":
			err = refuseList(key, raw)
		case "description":
			c.req.Description, err = nullableText(key, raw, 255)
		case "user_data":
			c.req.UserData, err = nullableText(key, raw, 65535)
		case "key_name":
			c.req.KeyName, err = nullableText(key, raw, 255)
		case "trusted_image_certificates":
			err = trustedCerts(key, raw)
		case "hostname":
			s, err = hostname(key, raw, osapi.Requested(r.Context()))
			c.access.Hostname = &s
		}
		if err != nil {
			return nil, err
		}
	}
	if c.adminPass == "" {
		c.adminPass = password()
	}
	return c, nil
}

func (c rebuildCall) run(m *Module, w http.ResponseWriter, r *http.Request, d api.ServerDetail) {
	if _, err := m.ops.Image(r.Context(), c.req.Image); errors.Is(err, fsm.ErrNotFound) {
		m.fail(w, r, badRequest("Cannot find image for rebuild"))
		return
	}
	idx, _, err := m.ops.RebuildServer(r.Context(), d.ID, c.req)
	if err == nil && c.access != (api.ServerUpdate{}) {
		idx, _, err = m.ops.UpdateServer(r.Context(), d.ID, c.access)
	}
	var inst fsm.Instance
	if err == nil {
		d, inst, err = m.ops.Server(r.Context(), d.ID)
	}
	if err != nil {
		m.fail(w, r, stateErr(r, m, d.ID, "rebuild", instanceErr(d.ID, err)))
		return
	}
	v := osapi.Requested(r.Context())
	o := viewOpts{}
	if v.AtLeast(2, 75) {
		o = m.detailOpts(r) // 2.75: the same view as GET's
	}
	s := serverView(r, d, inst, o)
	s.AdminPass = c.adminPass
	body, err := rebuildBody(v, s, inst)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.Header().Set("Location", s.Links[0].Href)
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"server": body})
}

// rebuildBody is the rebuilt server's view plus what only rebuild's answer
// adds: key_name from 2.54 (the view has it from 2.75 anyway) and the
// server's user_data from 2.57 (null for none).
func rebuildBody(v osapi.Version, s server, inst fsm.Instance) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(s)
	var body map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err != nil {
		return nil, err
	}
	if v.AtLeast(2, 54) {
		body["key_name"], _ = json.Marshal(nullable(inst.KeyName))
	}
	if v.AtLeast(2, 57) {
		// user_data, not GET's OS-EXT-SRV-ATTR:user_data (the 2.75 view)
		delete(body, "OS-EXT-SRV-ATTR:user_data")
		body["user_data"], _ = json.Marshal(nullable(inst.UserData))
	}
	return body, nil
}
