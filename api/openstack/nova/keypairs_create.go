package nova

import (
	"encoding/json"
	"net/http"
	"regexp"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// POST os-keypairs, schema per microversion: 2.1 name and public_key;
// 2.2 adds type (ssh or x509); 2.10 user_id; 2.92 makes public_key
// required and allows '@' and '.' in the name. api holds the rules on
// the values (the key's parse, the owner, the name's length).

// Nova's keypair_name_special_chars patterns, as its validator quotes
// them (Python's repr doubles the backslash).
var (
	keyPairName    = regexp.MustCompile(`^[_\- a-zA-Z0-9]+$`)
	keyPairName292 = regexp.MustCompile(`^[_\-\@\. a-zA-Z0-9]+$`)
)

const (
	keyPairNamePattern    = `^[_\\- a-zA-Z0-9]+$`
	keyPairNamePattern292 = `^[_\\-\\@\\. a-zA-Z0-9]+$`
)

// decodeKeyPair reads a create's body at the requested microversion.
func decodeKeyPair(w http.ResponseWriter, r *http.Request) (api.KeyPairCreate, error) {
	v := osapi.Requested(r.Context())
	var req api.KeyPairCreate
	body, err := readObject(w, r)
	if err != nil {
		return req, err
	}
	if err := onlyKeys("", body, "keypair"); err != nil {
		return req, err
	}
	allowed := []string{"name", "public_key"}
	if v.AtLeast(2, 2) {
		allowed = append(allowed, "type")
	}
	if v.AtLeast(2, 10) {
		allowed = append(allowed, "user_id")
	}
	kp, err := member(body, "keypair", allowed...)
	if err != nil {
		return req, err
	}
	need := []string{"name"}
	if v.AtLeast(2, 92) {
		need = append(need, "public_key")
	}
	if err := required("keypair", kp, need...); err != nil {
		return req, err
	}
	if req.Name, err = stringField("name", kp["name"]); err != nil {
		return req, err
	}
	name, pattern := keyPairName, keyPairNamePattern
	if v.AtLeast(2, 92) {
		name, pattern = keyPairName292, keyPairNamePattern292
	}
	if req.Name != "" && len(req.Name) <= 255 && !name.MatchString(req.Name) {
		quoted, _ := json.Marshal(req.Name)
		return req, invalidInput("name", quoted, "'"+req.Name+"' does not match '"+pattern+"'")
	}
	if raw, ok := kp["public_key"]; ok {
		if req.PublicKey, err = stringField("public_key", raw); err != nil {
			return req, err
		}
		if req.PublicKey == "" {
			return req, badRequest("Keypair data is invalid: failed to generate fingerprint")
		}
	}
	if raw, ok := kp["type"]; ok {
		if json.Unmarshal(raw, &req.Type) != nil || req.Type != "ssh" && req.Type != "x509" {
			return req, invalidInput("type", raw, truncated(raw)+" is not one of ['ssh', 'x509']")
		}
	}
	if raw, ok := kp["user_id"]; ok {
		if req.UserID, err = stringField("user_id", raw); err != nil {
			return req, err
		}
	}
	return req, nil
}

// createKeyPair answers 200 before 2.2 and 201 from it, with type.
func (m *Module) createKeyPair(w http.ResponseWriter, r *http.Request) {
	req, err := decodeKeyPair(w, r)
	var k api.KeyPair
	if err == nil {
		_, k, err = m.ops.CreateKeyPair(r.Context(), req)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if osapi.Requested(r.Context()).AtLeast(2, 2) {
		status = http.StatusCreated
	}
	api.WriteJSON(w, status, map[string]KeyPairCreated{"keypair": {
		Name: k.Name, PublicKey: k.PublicKey, Fingerprint: k.Fingerprint, UserID: k.UserID, PrivateKey: k.PrivateKey,
		Type: keyPairType(r, k.Type)}})
}
