package nova_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/fsm"
)

// Tempest's v2_1 schemas of keypairs and server groups.
var (
	keyPairShape = shape{"keypair": shape{"public_key": "string", "name": "string", "fingerprint": "string",
		"user_id": "string", "deleted": "boolean", "created_at": "datetime", "updated_at": "datetime|null",
		"deleted_at": "datetime|null", "id": "integer"}}
	keyPairCreatedShape = shape{"keypair": shape{"fingerprint": "string", "name": "string", "public_key": "string",
		"user_id": "string", "?private_key": "string"}}
	keyPairListShape = shape{"keypairs": []any{shape{"keypair": shape{"public_key": "string", "name": "string",
		"fingerprint": "string"}}}}
	serverGroupShape = shape{"id": "string", "name": "string", "policies": []any{"string"}, "members": []any{"string"},
		"metadata": shape{}}
)

func publicKey(t *testing.T) string {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key)))
}

func TestShapesKeyPairs(t *testing.T) {
	e, alpha := computeEnv(t)
	base := "/compute/v2.1/os-keypairs"

	resp, raw := e.Do(t, "POST", base, `{"keypair":{"name":"made"}}`, alpha.Token)
	if resp.StatusCode != 200 || !strings.Contains(string(raw), `"private_key":"-----BEGIN`) {
		t.Fatalf("generate: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "generated", raw, keyPairCreatedShape)
	imported, _ := json.Marshal(map[string]any{"keypair": map[string]string{"name": "mine", "public_key": publicKey(t)}})
	resp, raw = e.Do(t, "POST", base, string(imported), alpha.Token)
	if resp.StatusCode != 200 || strings.Contains(string(raw), "private_key") {
		t.Fatalf("import: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "imported", raw, keyPairCreatedShape)

	raw = get(t, e, base+"?user_id=someone-else", alpha.Token) // user_id is 2.10's: ignored at 2.1
	checkShape(t, "list", raw, keyPairListShape)
	if strings.Count(string(raw), `"name"`) != 2 {
		t.Errorf("list: %s", raw)
	}
	raw = get(t, e, base+"/mine", alpha.Token)
	checkShape(t, "show", raw, keyPairShape)
	if !strings.Contains(string(raw), `"user_id":"`+alpha.UserID+`"`) {
		t.Errorf("show: %s", raw)
	}

	before := e.FSM.Index()
	for _, c := range []struct {
		method, path, body string
		status             int
		message            string
	}{
		{"POST", base, string(imported), 409, "Key pair 'mine' already exists."},
		{"POST", base, `{"keypair":{"name":"x","public_key":""}}`, 400, "Keypair data is invalid: failed to generate fingerprint"},
		{"POST", base, `{"keypair":{"name":"x","public_key":"ssh-rsa AAAA"}}`, 400, ""},
		{"POST", base, `{"keypair":{"name":"x","type":"ssh"}}`, 400, ""},
		{"POST", base, `{"keypair":{"name":"x","user_id":"u"}}`, 400, ""},
		{"POST", base, `{"keypair":{"name":""}}`, 400, ""},
		{"POST", base, `{"keypair":{"name":"` + strings.Repeat("k", 256) + `"}}`, 400, ""},
		{"POST", base, `{"keypair":{"name":"key_/.\\@:"}}`, 400, ""},
		{"POST", base, `{"keypair":{}}`, 400, ""},
		{"GET", base + "/nope", "", 404, "Keypair nope not found for user " + alpha.UserID},
		{"DELETE", base + "/nope", "", 404, "Keypair nope not found for user " + alpha.UserID},
	} {
		resp, raw := e.Do(t, c.method, c.path, c.body, alpha.Token)
		if resp.StatusCode != c.status || c.message != "" && faultMessage(t, raw) != c.message {
			t.Errorf("%s %s %.60s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state")
	}
	if resp, raw := e.Do(t, "DELETE", base+"/mine", "", alpha.Token); resp.StatusCode != http.StatusAccepted {
		t.Errorf("delete: %d %s", resp.StatusCode, raw)
	}
}

func TestShapesServerGroups(t *testing.T) {
	e, alpha := computeEnv(t)
	beta := e.AddTenant(t, "beta", fsm.RoleMember)
	base := "/compute/v2.1/os-server-groups"

	resp, raw := e.Do(t, "POST", base, `{"server_group":{"name":"web","policies":["anti-affinity"]}}`, alpha.Token)
	if resp.StatusCode != 200 {
		t.Fatalf("create: %d %s", resp.StatusCode, raw)
	}
	checkShape(t, "create", raw, shape{"server_group": serverGroupShape})
	var created struct {
		Group struct {
			ID string `json:"id"`
		} `json:"server_group"`
	}
	_ = json.Unmarshal(raw, &created)
	checkShape(t, "show", get(t, e, base+"/"+created.Group.ID, alpha.Token), shape{"server_group": serverGroupShape})
	checkShape(t, "list", get(t, e, base, alpha.Token), shape{"server_groups": []any{serverGroupShape}})
	if raw := get(t, e, base+"?all_projects=True", beta.Token); string(raw) != "{\"server_groups\":[]}\n" {
		t.Errorf("all_projects from a non-admin: %s", raw)
	}
	if raw := get(t, e, base+"?all_projects=True", apitest.AdminToken); !strings.Contains(string(raw), created.Group.ID) {
		t.Errorf("all_projects from an admin: %s", raw)
	}

	before := e.FSM.Index()
	for _, c := range []struct {
		method, path, body, token string
		status                    int
	}{
		{"POST", base, `{"server_group":{"name":"x","policies":["soft-affinity"]}}`, alpha.Token, 400},
		{"POST", base, `{"server_group":{"name":"x","policies":["affinity","anti-affinity"]}}`, alpha.Token, 400},
		{"POST", base, `{"server_group":{"name":"x","policy":"affinity"}}`, alpha.Token, 400},
		{"POST", base, `{"server_group":{"name":"","policies":["affinity"]}}`, alpha.Token, 400},
		{"GET", base + "/" + created.Group.ID, "", beta.Token, 404},
		{"DELETE", base + "/" + created.Group.ID, "", beta.Token, 404},
	} {
		resp, raw := e.Do(t, c.method, c.path, c.body, c.token)
		if resp.StatusCode != c.status {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, resp.StatusCode, raw)
		}
	}
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state")
	}
	if resp, raw := e.Do(t, "DELETE", base+"/"+created.Group.ID, "", alpha.Token); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete: %d %s", resp.StatusCode, raw)
	}
}
