package nova

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// What later microversions change in POST /servers (Nova's create_v2NN
// schemas): 2.19 description; 2.32 (only) and 2.33–2.36, then 2.42 on,
// device tags on networks; 2.37 networks required, "auto", "none" or a
// list of UUIDs; 2.52 tags; 2.57 no personality; 2.63
// trusted_image_certificates; 2.74 host and hypervisor_hostname (an
// admin's); 2.90 hostname (2.94: fully qualified).

// createKeys are the members of "server" Nova's schema allows at v.
func createKeys(v osapi.Version) []string {
	keys := append([]string(nil), createKeys21...)
	add := func(ok bool, k ...string) {
		if ok {
			keys = append(keys, k...)
		}
	}
	add(v.AtLeast(2, 19), "description")
	add(v.AtLeast(2, 52), "tags")
	if v.AtLeast(2, 57) {
		keys = deleteKey(keys, "personality")
	}
	add(v.AtLeast(2, 63), "trusted_image_certificates")
	add(v.AtLeast(2, 74), "host", "hypervisor_hostname")
	add(v.AtLeast(2, 90), "hostname")
	return keys
}

func deleteKey(keys []string, k string) []string {
	out := keys[:0]
	for _, key := range keys {
		if key != k {
			out = append(out, key)
		}
	}
	return out
}

// createRequired are the members a create must have at v.
func createRequired(v osapi.Version) []string {
	if v.AtLeast(2, 37) {
		return []string{"name", "flavorRef", "networks"}
	}
	return []string{"name", "flavorRef"}
}

// networksAt reads "networks" as the body's version has it: from 2.37
// "auto" (the tenant network, which every server is on here) or "none"
// (refused: a server here always has its port), or a list whose uuids are
// UUIDs; device tags where the version allows them (shoal has no device
// metadata to put them in: they are checked and dropped).
func (req *createRequest) networksAt(k string, v json.RawMessage) ([]networkRequest, error) {
	keys := []string{"fixed_ip", "port", "uuid"}
	if vv := req.version; vv.AtLeast(2, 32) && !vv.AtLeast(2, 37) || vv.AtLeast(2, 42) {
		keys = append(keys, "tag")
	}
	if !req.version.AtLeast(2, 37) {
		return networks(k, v, keys...)
	}
	if isKind(v, '"') {
		s, _ := stringField(k, v)
		switch s {
		case "auto":
			return nil, nil
		case "none":
			return nil, badRequest("Creating a server without a network is not supported: every server has a port on the tenant network.")
		}
		return nil, invalidInput(k, v, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(v)))
	}
	out, err := networks(k, v, keys...)
	if err != nil {
		if _, lerr := asList(k, v); lerr != nil {
			return nil, invalidInput(k, v, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(v)))
		}
		return nil, err
	}
	for _, n := range out {
		if n.uuid != "" {
			if _, err := uuidText("uuid", json.RawMessage(fmt.Sprintf("%q", n.uuid))); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// tagFormat is Nova's tag: 1 to 60 characters, neither ',' nor '/'.
var tagFormat = regexp.MustCompile(`^[^,/]*$`)

// deviceTag is a tag (of a server, or of a device at create).
func deviceTag(k string, v json.RawMessage) (string, error) {
	s, err := boundedText(k, v, 1, fsm.MaxTagLength)
	if err == nil && !tagFormat.MatchString(s) {
		err = invalidInput(k, v, fmt.Sprintf("'%s' does not match '%s'", s, tagFormat.String()))
	}
	return s, err
}

// serverTags is a list of tags (2.52's create, PUT /servers/{id}/tags).
func serverTags(k string, v json.RawMessage) ([]string, error) {
	items, err := asList(k, v)
	if err != nil {
		return nil, err
	}
	if len(items) > fsm.MaxInstanceTags {
		return nil, invalidInput(k, v, fmt.Sprintf("%s is too long", truncated(v)))
	}
	tags := []string{}
	for _, item := range items {
		t, err := deviceTag(k, item)
		if err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// laterMember reads a member of "server" that only later versions allow
// (createKeys let it through).
func (req *createRequest) laterMember(k string, v json.RawMessage) error {
	var err error
	switch k {
	case "description":
		if !isNull(v) {
			req.Description, err = boundedText(k, v, 0, fsm.MaxServerDescription)
		}
	case "tags":
		req.Tags, err = serverTags(k, v)
	case "trusted_image_certificates":
		err = trustedCerts(k, v)
	case "host":
		req.Host, err = fqdn(k, v)
	case "hypervisor_hostname":
		var node string
		if node, err = fqdn(k, v); err == nil {
			// A host is its one hypervisor here.
			req.node = node
		}
	case "hostname":
		req.Hostname, err = hostname(k, v, req.version)
	}
	return err
}

// fqdnFormat is Nova's fqdn (a host or hypervisor name).
var fqdnFormat = regexp.MustCompile(`^[a-zA-Z0-9-._]*$`)

func fqdn(k string, v json.RawMessage) (string, error) {
	s, err := boundedText(k, v, 1, 255)
	if err == nil && !fqdnFormat.MatchString(s) {
		err = invalidInput(k, v, fmt.Sprintf("'%s' does not match '%s'", s, fqdnFormat.String()))
	}
	return s, err
}

// trustedCerts checks 2.63's list of certificate IDs and refuses a
// non-empty one: shoal verifies no image signatures, so it cannot honour
// them (Nova fails such a boot with its certificate validation error).
func trustedCerts(k string, v json.RawMessage) error {
	if isNull(v) {
		return nil
	}
	items, err := asList(k, v)
	if err != nil {
		return err
	}
	switch {
	case len(items) == 0:
		return invalidInput(k, v, "[] is too short")
	case len(items) > 50:
		return invalidInput(k, v, fmt.Sprintf("%s is too long", truncated(v)))
	}
	seen := map[string]bool{}
	for _, item := range items {
		s, err := boundedText(k, item, 1, 1<<16)
		if err != nil {
			return err
		}
		if seen[s] {
			return invalidInput(k, v, fmt.Sprintf("%s has non-unique elements", truncated(v)))
		}
		seen[s] = true
	}
	first, _ := stringField(k, items[0])
	return badRequest("Image signature certificate validation failed for certificate: %s. "+
		"Image signature verification is not supported.", first)
}
