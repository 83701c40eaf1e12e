package api

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/fsm"
)

// testKey is an ed25519 public key derived from seed, in authorized_keys
// form, and its MD5 fingerprint.
func testKey(t testing.TB, seed byte) (key, fingerprint string) {
	t.Helper()
	return authorizedKey(t, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)).Public())
}

// authorizedKey is pub in authorized_keys form and its MD5 fingerprint.
func authorizedKey(t testing.TB, pub any) (key, fingerprint string) {
	t.Helper()
	p, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(p))), ssh.FingerprintLegacyMD5(p)
}

// testKeyPair is user's keypair name with testKey(seed), as the API makes it.
func testKeyPair(t testing.TB, user, name string, seed byte) fsm.KeyPair {
	t.Helper()
	key, fp := testKey(t, seed)
	return fsm.KeyPair{Name: name, UserID: user, PublicKey: key, Fingerprint: fp, Type: fsm.KeyPairTypeSSH}
}

// keyPairBody is a create request for name with public key key ("" generates).
func keyPairBody(t testing.TB, name, key string) string {
	t.Helper()
	kp := map[string]string{"name": name}
	if key != "" {
		kp["public_key"] = key
	}
	b, err := json.Marshal(map[string]any{"keypair": kp})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Imported keys of each accepted kind, in Nova's wire shapes: the create,
// the list (each keypair wrapped), show and delete.
func TestKeyPairImport(t *testing.T) {
	c, ts := newTestServer(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edText, edFP := testKey(t, 1)
	ecText, ecFP := authorizedKey(t, ecKey.Public())
	rsaText, rsaFP := authorizedKey(t, rsaKey.Public())
	for _, k := range []struct{ name, key, fp string }{
		{"ed", edText + " me@laptop\n", edFP}, {"ec", ecText, ecFP}, {"rsa key", rsaText, rsaFP}} {
		resp, raw := call(t, ts, "POST", "/v1/keypairs", keyPairBody(t, k.name, k.key), HeaderAuthToken, m.Token)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("import %s = %d %s", k.name, resp.StatusCode, raw)
		}
		got := decode[map[string]map[string]any](t, raw)["keypair"]
		if keys := slices.Sorted(maps.Keys(got)); strings.Join(keys, ",") != "created_at,fingerprint,name,public_key,type,user_id" {
			t.Errorf("keypair fields = %v", keys)
		}
		want := strings.TrimSpace(k.key)
		if got["name"] != k.name || got["public_key"] != want || got["fingerprint"] != k.fp || got["type"] != "ssh" || got["user_id"] != m.UserID {
			t.Errorf("import %s = %v", k.name, got)
		}
		if loc := resp.Header.Get("Location"); loc != "/v1/keypairs/"+strings.ReplaceAll(k.name, " ", "%20") {
			t.Errorf("Location = %q", loc)
		}
	}
	resp, raw := call(t, ts, "GET", "/v1/keypairs", "", HeaderAuthToken, m.Token)
	list := decode[KeyPairList](t, raw)
	if resp.StatusCode != http.StatusOK || len(list.KeyPairs) != 3 || list.KeyPairs[0].KeyPair.Name != "ec" ||
		!bytes.HasPrefix(raw, []byte(`{"keypairs":[{"keypair":{"name":"ec",`)) {
		t.Errorf("list = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/keypairs/rsa%20key", "", HeaderAuthToken, m.Token)
	if k := decode[KeyPairResponse](t, raw).KeyPair; resp.StatusCode != 200 || k.Fingerprint != rsaFP || k.Created.IsZero() {
		t.Errorf("show = %d %s", resp.StatusCode, raw)
	}
	if resp, raw := call(t, ts, "DELETE", "/v1/keypairs/ed", "", HeaderAuthToken, m.Token); resp.StatusCode != http.StatusNoContent {
		t.Errorf("delete = %d %s", resp.StatusCode, raw)
	}
	resp, raw = call(t, ts, "GET", "/v1/keypairs/ed", "", HeaderAuthToken, m.Token)
	wantError(t, resp, raw, http.StatusNotFound, "keypair")
}

// A generated key is returned once: the create's answer has the private
// key (the public key's pair), nothing else ever shows it, and the log
// never holds it.
func TestKeyPairGenerate(t *testing.T) {
	c, ts, logs := newLoggedServer(t)
	m := c.addTenant(t, "alpha", fsm.RoleReader) // any role may keep keypairs
	resp, raw := call(t, ts, "POST", "/v1/keypairs", keyPairBody(t, "gen", ""), HeaderAuthToken, m.Token)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("generate = %d %s", resp.StatusCode, raw)
	}
	k := decode[KeyPairResponse](t, raw).KeyPair
	signer, err := ssh.ParsePrivateKey([]byte(k.PrivateKey))
	if err != nil || !strings.HasPrefix(k.PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
		t.Fatalf("private key %.40q…: %v", k.PrivateKey, err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.PublicKey))
	if err != nil || !bytes.Equal(pub.Marshal(), signer.PublicKey().Marshal()) || pub.Type() != ssh.KeyAlgoED25519 ||
		k.Fingerprint != ssh.FingerprintLegacyMD5(pub) || !strings.HasSuffix(k.PublicKey, " Generated-by-Shoal") {
		t.Errorf("public key %q (%s) is not the private key's: %v", k.PublicKey, k.Fingerprint, err)
	}
	secret := strings.Split(k.PrivateKey, "\n")[1] // a line of the key's base64
	for _, path := range []string{"/v1/keypairs", "/v1/keypairs/gen"} {
		if _, raw := call(t, ts, "GET", path, "", HeaderAuthToken, m.Token); bytes.Contains(raw, []byte("private_key")) {
			t.Errorf("GET %s shows the private key: %s", path, raw)
		}
	}
	snap, err := c.FSM.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var state bytes.Buffer
	if _, err := snap.WriteTo(&state); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(state.String(), secret) || !strings.Contains(state.String(), k.Fingerprint) {
		t.Error("the private key is in the replicated state, or the keypair is not")
	}
	if strings.Contains(logs.String(), secret) || !strings.Contains(logs.String(), "/v1/keypairs") {
		t.Errorf("the private key is in the log, or the requests are not:\n%s", logs)
	}
}

// Bad input is refused with Nova's statuses and stores nothing.
func TestKeyPairBadInput(t *testing.T) {
	c, ts := newTestServer(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	other := c.addTenant(t, "beta", fsm.RoleMember)
	key, _ := testKey(t, 1)
	key2, _ := testKey(t, 2)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallText, _ := authorizedKey(t, small.Public())
	c.MustApply(t, &fsm.CreateKeyPair{KeyPair: testKeyPair(t, m.UserID, "taken", 3)})
	for _, tc := range []struct {
		name, body string
		status     int
		contains   string
	}{
		{"not a key", keyPairBody(t, "k", "ssh-ed25519 nope"), 400, "Keypair data is invalid"},
		{"empty key", `{"keypair":{"name":"k","public_key":""}}`, 400, "Keypair data is invalid"},
		{"private key", keyPairBody(t, "k", "-----BEGIN OPENSSH PRIVATE KEY-----"), 400, "Keypair data is invalid"},
		{"RSA 1024", keyPairBody(t, "k", smallText), 400, "at least 2048 bits"},
		{"options", keyPairBody(t, "k", `command="id" `+key), 400, "options"},
		{"two keys", keyPairBody(t, "k", key+"\n"+key2), 400, "one key"},
		{"no name", `{"keypair":{"public_key":"` + key + `"}}`, 400, "name is empty"},
		{"name with a slash", keyPairBody(t, "a/b", key), 400, "unsafe characters"},
		{"name too long", keyPairBody(t, strings.Repeat("k", 256), key), 400, "longer than 255"},
		{"type x509 with an SSH key", `{"keypair":{"name":"k","type":"x509","public_key":"` + key + `"}}`, 400, "Keypair data is invalid"},
		{"type rsa", `{"keypair":{"name":"k","type":"rsa"}}`, 400, "type must be ssh"},
		{"unknown field", `{"keypair":{"name":"k","size":4096}}`, 400, "unknown field"},
		{"taken", keyPairBody(t, "taken", key), 409, "Key pair 'taken' already exists."},
		{"another user's", `{"keypair":{"name":"k","user_id":"` + other.UserID + `"}}`, 403, "policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.FSM.Index()
			resp, raw := call(t, ts, "POST", "/v1/keypairs", tc.body, HeaderAuthToken, m.Token)
			wantError(t, resp, raw, tc.status, tc.contains)
			if c.FSM.Index() != before || len(c.FSM.KeyPairsOf(m.UserID)) != 1 || len(c.FSM.KeyPairsOf(other.UserID)) != 0 {
				t.Error("a refused create stored something")
			}
		})
	}
	// An admin names users by ID, and only existing ones.
	resp, raw := call(t, ts, "POST", "/v1/keypairs", `{"keypair":{"name":"k","user_id":"nobody"}}`)
	wantError(t, resp, raw, 400, "User nobody could not be found.")

	// key_pairs counts the user's keypairs against its project's limit.
	c.MustApply(t, &fsm.SetQuota{ProjectID: m.ProjectID, Quota: fsm.QuotaOverride{KeyPairs: new(1)}})
	resp, raw = call(t, ts, "POST", "/v1/keypairs", keyPairBody(t, "k", key), HeaderAuthToken, m.Token)
	wantError(t, resp, raw, http.StatusForbidden, "Quota exceeded, too many key pairs.")
	if n := len(c.FSM.KeyPairsOf(m.UserID)); n != 1 {
		t.Errorf("over quota: %d keypairs", n)
	}
}

// A user sees and changes only its own keypairs, names are per user, and
// an admin reaches another user's with user_id.
func TestKeyPairTenancy(t *testing.T) {
	c, ts := newTestServer(t)
	a, b := c.addTenant(t, "alpha", fsm.RoleMember), c.addTenant(t, "alpha", fsm.RoleReader)
	key, _ := testKey(t, 1)
	for _, who := range []string{a.Token, b.Token} {
		if resp, raw := call(t, ts, "POST", "/v1/keypairs", keyPairBody(t, "k", key), HeaderAuthToken, who); resp.StatusCode != 201 {
			t.Fatalf("create = %d %s", resp.StatusCode, raw)
		}
	}
	c.MustApply(t, &fsm.CreateKeyPair{KeyPair: testKeyPair(t, a.UserID, "only-a", 2)})
	names := func(raw []byte) (out []string) {
		for _, k := range decode[KeyPairList](t, raw).KeyPairs {
			out = append(out, k.KeyPair.UserID+"/"+k.KeyPair.Name)
		}
		return out
	}
	if _, raw := call(t, ts, "GET", "/v1/keypairs", "", HeaderAuthToken, b.Token); !slices.Equal(names(raw), []string{b.UserID + "/k"}) {
		t.Errorf("b lists %s", raw)
	}
	resp, raw := call(t, ts, "GET", "/v1/keypairs/only-a", "", HeaderAuthToken, b.Token)
	wantError(t, resp, raw, http.StatusNotFound, "")
	resp, raw = call(t, ts, "DELETE", "/v1/keypairs/only-a?user_id="+a.UserID, "", HeaderAuthToken, b.Token)
	wantError(t, resp, raw, http.StatusForbidden, "")
	resp, raw = call(t, ts, "GET", "/v1/keypairs?user_id="+a.UserID, "", HeaderAuthToken, b.Token)
	wantError(t, resp, raw, http.StatusForbidden, "")

	if _, raw := call(t, ts, "GET", "/v1/keypairs", ""); len(names(raw)) != 0 {
		t.Errorf("the admin lists others' keypairs without user_id: %s", raw)
	}
	if _, raw := call(t, ts, "GET", "/v1/keypairs?user_id="+a.UserID, ""); !slices.Equal(names(raw), []string{a.UserID + "/k", a.UserID + "/only-a"}) {
		t.Errorf("admin lists a's: %s", raw)
	}
	if resp, raw := call(t, ts, "DELETE", "/v1/keypairs/only-a?user_id="+a.UserID, ""); resp.StatusCode != 204 {
		t.Errorf("admin delete = %d %s", resp.StatusCode, raw)
	}
	if len(c.FSM.KeyPairsOf(a.UserID)) != 1 || len(c.FSM.KeyPairsOf(b.UserID)) != 1 {
		t.Error("the wrong keypairs went")
	}
	resp, raw = call(t, ts, "GET", "/v1/keypairs?limit=1", "", HeaderAuthToken, a.Token)
	wantError(t, resp, raw, http.StatusBadRequest, "unknown query parameter")
}
