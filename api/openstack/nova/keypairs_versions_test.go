package nova_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's v2_2 keypair schemas: type everywhere; create 201, delete 204.
var (
	keyPairShape22        = withKeys(keyPairShape["keypair"].(shape), shape{"type": "string"})
	keyPairCreatedShape22 = withKeys(keyPairCreatedShape["keypair"].(shape), shape{"type": "string"})
	keyPairListEntry22    = withKeys(keyPairListShape["keypairs"].([]any)[0].(shape)["keypair"].(shape), shape{"type": "string"})
	linksShape            = []any{shape{"href": "string", "rel": "string"}}
)

// restDropKeys is s without the keys named (a later microversion's schema).
func restDropKeys(s shape, drop ...string) shape {
	out := shape{}
	for k, v := range s {
		out[k] = v
	}
	for _, k := range drop {
		delete(out, k)
		delete(out, "?"+k)
	}
	return out
}

// at is the header that asks for microversion v.
func restAt(v string) []string { return []string{"X-OpenStack-Nova-API-Version", v} }

// restEnvUpTo serves every microversion up to 2.100, with one tenant.
func restEnvUpTo(t *testing.T) (*apitest.Env, string, string) {
	t.Helper()
	e := apitest.New(t, nova.NewUpTo("2.100"))
	alpha := e.AddTenant(t, "alpha", fsm.RoleMember)
	return e, alpha.Token, alpha.UserID
}

func importBody(t *testing.T, name string, extra string) string {
	b, _ := json.Marshal(map[string]any{"keypair": map[string]string{"name": name, "public_key": publicKey(t)}})
	if extra != "" {
		return strings.Replace(string(b), `{"name"`, `{`+extra+`,"name"`, 1)
	}
	return string(b)
}

func TestKeyPairsV22TypeAndStatus(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	resp, raw := e.Do(t, "POST", base, `{"keypair":{"name":"made","type":"ssh"}}`, token, restAt("2.2")...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create at 2.2: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create 2.2", raw, shape{"keypair": keyPairCreatedShape22})
	if !strings.Contains(string(raw), `"type":"ssh"`) || !strings.Contains(string(raw), "private_key") {
		t.Errorf("create 2.2: %s", raw)
	}
	resp, raw = e.Do(t, "POST", base, importBody(t, "imp", ""), token, restAt("2.2")...)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import at 2.2: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "import 2.2", raw, shape{"keypair": keyPairCreatedShape22})
	_, raw = e.Do(t, "GET", base, "", token, restAt("2.2")...)
	checkShape(t, "list 2.2", raw, shape{"keypairs": []any{shape{"keypair": keyPairListEntry22}}})
	_, raw = e.Do(t, "GET", base+"/made", "", token, restAt("2.2")...)
	checkShape(t, "show 2.2", raw, shape{"keypair": keyPairShape22})
	// 2.1 still has no type.
	_, raw = e.Do(t, "GET", base+"/made", "", token, restAt("2.1")...)
	checkShape(t, "show 2.1", raw, keyPairShape)
	for _, c := range []struct{ body, message string }{
		{`{"keypair":{"name":"x","type":"rsa"}}`, `Invalid input for field/attribute type. Value: "rsa". "rsa" is not one of ['ssh', 'x509']`},
		{`{"keypair":{"name":"x","user_id":"u"}}`, ""}, // 2.10's
	} {
		if resp, raw := e.Do(t, "POST", base, c.body, token, restAt("2.9")...); resp.StatusCode != 400 ||
			c.message != "" && faultMessage(t, raw) != c.message {
			t.Errorf("%s at 2.9: %d %s", c.body, resp.StatusCode, raw)
		}
	}
	if resp, raw := e.Do(t, "DELETE", base+"/made", "", token, restAt("2.2")...); resp.StatusCode != http.StatusNoContent || len(raw) != 0 {
		t.Errorf("delete at 2.2: %d %s", resp.StatusCode, raw)
	}
}

func TestKeyPairsV210AdminUserID(t *testing.T) {
	e, token, user := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	admin := apitest.AdminToken
	body := importBody(t, "theirs", `"user_id":"`+user+`"`)
	if resp, raw := e.Do(t, "POST", base, body, admin, restAt("2.9")...); resp.StatusCode != 400 {
		t.Fatalf("user_id at 2.9: %d %s", resp.StatusCode, raw)
	}
	resp, raw := e.Do(t, "POST", base, body, admin, restAt("2.10")...)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(raw), `"user_id":"`+user+`"`) {
		t.Fatalf("create for another user at 2.10: %d %s", resp.StatusCode, raw)
	}
	_, raw = e.Do(t, "GET", base+"?user_id="+user, "", admin, restAt("2.10")...)
	if !strings.Contains(string(raw), `"theirs"`) {
		t.Errorf("admin list at 2.10: %s", raw)
	}
	_, raw = e.Do(t, "GET", base+"?user_id="+user, "", admin, restAt("2.9")...) // ignored below 2.10
	if strings.Contains(string(raw), `"theirs"`) {
		t.Errorf("admin list at 2.9: %s", raw)
	}
	if resp, raw := e.Do(t, "GET", base+"/theirs?user_id="+user, "", admin, restAt("2.10")...); resp.StatusCode != 200 {
		t.Errorf("admin show at 2.10: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"/theirs?user_id=admin-is-not-them", "", token, restAt("2.10")...); resp.StatusCode != 403 {
		t.Errorf("member naming another user: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "DELETE", base+"/theirs?user_id="+user, "", admin, restAt("2.10")...); resp.StatusCode != 204 {
		t.Errorf("admin delete at 2.10: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"/theirs", "", token, restAt("2.10")...); resp.StatusCode != 404 ||
		faultMessage(t, raw) != "Keypair theirs not found for user "+user {
		t.Errorf("after delete: %d %s", resp.StatusCode, raw)
	}
}

func TestKeyPairsV235Paging(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	for _, n := range []string{"c", "a", "b"} {
		if resp, raw := e.Do(t, "POST", base, importBody(t, n, ""), token, restAt("2.35")...); resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", n, resp.StatusCode, raw)
		}
	}
	names := func(raw []byte) string {
		var l struct {
			KeyPairs []struct {
				KeyPair struct{ Name string } `json:"keypair"`
			} `json:"keypairs"`
		}
		_ = json.Unmarshal(raw, &l)
		var out []string
		for _, k := range l.KeyPairs {
			out = append(out, k.KeyPair.Name)
		}
		return strings.Join(out, ",")
	}
	_, raw := e.Do(t, "GET", base+"?limit=2", "", token, restAt("2.35")...)
	checkShape(t, "page 2.35", raw, shape{"keypairs": []any{shape{"keypair": keyPairListEntry22}}, "keypairs_links": linksShape})
	if names(raw) != "a,b" || !strings.Contains(string(raw), "/compute/v2.1/os-keypairs?limit=2\\u0026marker=b") {
		t.Errorf("first page: %s", raw)
	}
	_, raw = e.Do(t, "GET", base+"?limit=2&marker=b", "", token, restAt("2.35")...)
	if names(raw) != "c" || strings.Contains(string(raw), "keypairs_links") {
		t.Errorf("last page: %s", raw)
	}
	_, raw = e.Do(t, "GET", base+"?limit=2", "", token, restAt("2.34")...) // not paged before 2.35
	if names(raw) != "a,b,c" {
		t.Errorf("2.34: %s", raw)
	}
	for _, c := range []struct{ query, message string }{
		{"?marker=nope", "Marker nope could not be found."},
		{"?limit=-1", "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"},
		{"?limit=x", "Invalid input for query parameters limit. Value: x. 'x' does not match '^[0-9]*$'"},
	} {
		if resp, raw := e.Do(t, "GET", base+c.query, "", token, restAt("2.35")...); resp.StatusCode != 400 || faultMessage(t, raw) != c.message {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, raw)
		}
	}
}

func TestKeyPairsV275UnknownQuery(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	if resp, raw := e.Do(t, "POST", base, importBody(t, "k", ""), token, restAt("2.75")...); resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	for _, path := range []string{base + "?foo=1", base + "/k?limit=1", base + "/k?foo=1"} {
		for _, method := range []string{"GET", "DELETE"} {
			if method == "DELETE" && path == base+"?foo=1" {
				continue
			}
			if method == "GET" { // (a DELETE at 2.74 would succeed)
				if resp, _ := e.Do(t, method, path, "", token, restAt("2.74")...); resp.StatusCode != 200 {
					t.Errorf("%s %s at 2.74: %d", method, path, resp.StatusCode)
				}
			}
			resp, raw := e.Do(t, method, path, "", token, restAt("2.75")...)
			if resp.StatusCode != 400 || !strings.HasPrefix(faultMessage(t, raw), "Additional properties are not allowed (") {
				t.Errorf("%s %s at 2.75: %d %s", method, path, resp.StatusCode, raw)
			}
		}
	}
	if resp, raw := e.Do(t, "GET", base+"?limit=1&marker=k&user_id=", "", token, restAt("2.75")...); resp.StatusCode != 200 {
		t.Errorf("known parameters at 2.75: %d %s", resp.StatusCode, raw)
	}
}

func TestKeyPairsV292(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	resp, raw := e.Do(t, "POST", base, `{"keypair":{"name":"gen"}}`, token, restAt("2.92")...)
	if resp.StatusCode != 400 || faultMessage(t, raw) != `Invalid input for field/attribute keypair. Value: {"name":"gen"}. 'public_key' is a required property` {
		t.Errorf("generate at 2.92: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "POST", base, importBody(t, "me@host.example", ""), token, restAt("2.91")...); resp.StatusCode != 400 ||
		faultMessage(t, raw) != `Invalid input for field/attribute name. Value: "me@host.example". 'me@host.example' does not match '^[_\\- a-zA-Z0-9]+$'` {
		t.Errorf("@ at 2.91: %d %s", resp.StatusCode, raw)
	}
	resp, raw = e.Do(t, "POST", base, importBody(t, "me@host.example", ""), token, restAt("2.92")...)
	if resp.StatusCode != 201 || strings.Contains(string(raw), "private_key") {
		t.Fatalf("@ at 2.92: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create 2.92", raw, shape{"keypair": restDropKeys(keyPairCreatedShape22, "private_key")})
	if resp, raw := e.Do(t, "POST", base, importBody(t, "bad/name", ""), token, restAt("2.92")...); resp.StatusCode != 400 {
		t.Errorf("/ at 2.92: %d %s", resp.StatusCode, raw)
	}
	if resp, raw := e.Do(t, "GET", base+"/me@host.example", "", token, restAt("2.92")...); resp.StatusCode != 200 {
		t.Errorf("show: %d %s", resp.StatusCode, raw)
	}
}

func TestKeyPairsV22X509(t *testing.T) {
	e, token, _ := restEnvUpTo(t)
	base := "/compute/v2.1/os-keypairs"
	resp, raw := e.Do(t, "POST", base, `{"keypair":{"name":"win","type":"x509"}}`, token, restAt("2.2")...)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(raw), `"type":"x509"`) ||
		!strings.Contains(string(raw), "BEGIN CERTIFICATE") || !strings.Contains(string(raw), "BEGIN PRIVATE KEY") {
		t.Fatalf("generate x509: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "x509 create", raw, shape{"keypair": keyPairCreatedShape22})
	var made struct {
		KeyPair struct {
			PublicKey   string `json:"public_key"`
			Fingerprint string `json:"fingerprint"`
		} `json:"keypair"`
	}
	decode(t, raw, &made)
	if len(made.KeyPair.Fingerprint) != 59 {
		t.Errorf("fingerprint %q", made.KeyPair.Fingerprint)
	}
	// The certificate imports back, with the same fingerprint.
	body, _ := json.Marshal(map[string]any{"keypair": map[string]string{"name": "win2", "type": "x509", "public_key": made.KeyPair.PublicKey}})
	resp, raw = e.Do(t, "POST", base, string(body), token, restAt("2.2")...)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(string(raw), made.KeyPair.Fingerprint) || strings.Contains(string(raw), "private_key") {
		t.Errorf("import x509: %d %s", resp.StatusCode, raw)
	}
	_, raw = e.Do(t, "GET", base+"/win2", "", token, restAt("2.2")...)
	checkShape(t, "x509 show", raw, shape{"keypair": keyPairShape22})
	if resp, raw := e.Do(t, "POST", base, `{"keypair":{"name":"bad","type":"x509","public_key":"not a cert"}}`, token, restAt("2.2")...); resp.StatusCode != 400 {
		t.Errorf("bad certificate: %d %s", resp.StatusCode, raw)
	}
}
