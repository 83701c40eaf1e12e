package api

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// newLoggedServer is newTestServer with its log (debug, every request) kept.
func newLoggedServer(t *testing.T) (*fakeCluster, *httptest.Server, *testkit.SyncBuffer) {
	t.Helper()
	c := newFakeCluster(t)
	logs := &testkit.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts := httptest.NewServer(New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth(), Logger: logger}).Handler())
	t.Cleanup(ts.Close)
	return c, ts, logs
}

// Only the admin makes, lists and revokes join tokens and rotates the gossip
// key; a refused caller changes nothing.
func TestClusterSecurityTenancy(t *testing.T) {
	c, ts := newTestServer(t)
	r, m := c.addTenant(t, "alpha", fsm.RoleReader), c.addTenant(t, "alpha", fsm.RoleMember)
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/cluster/join-tokens", `{"ttl":"5m","uses":2}`},
		{"GET", "/v1/cluster/join-tokens", ""},
		{"DELETE", "/v1/cluster/join-tokens/0123456789abcdef0123456789abcdef", ""},
		{"POST", "/v1/cluster/gossip-key/rotate", ""},
	}
	for _, rt := range routes {
		for _, caller := range []struct {
			name, token string
			status      int
		}{{"no token", "", 401}, {"bad token", "shoal1.bogus.token", 401}, {"reader", r.Token, 403}, {"member", m.Token, 403}} {
			t.Run(rt.method+" "+rt.path+"/"+caller.name, func(t *testing.T) {
				before := c.snapshot()
				resp, body := call(t, ts, rt.method, rt.path, rt.body, HeaderAuthToken, caller.token)
				wantError(t, resp, body, caller.status, "")
				if after := c.snapshot(); !reflect.DeepEqual(after, before) || len(c.FSM.JoinTokens()) != 0 || c.rotated() != "" {
					t.Errorf("a refused %s changed the state", caller.name)
				}
			})
		}
	}
	resp, body := call(t, ts, "POST", "/v1/cluster/join-tokens", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("admin create = %d %s", resp.StatusCode, body)
	}
	id := decode[JoinTokenResponse](t, body).JoinToken.ID
	for _, rt := range []struct{ method, path string }{{"GET", "/v1/cluster/join-tokens"},
		{"DELETE", "/v1/cluster/join-tokens/" + id}, {"POST", "/v1/cluster/gossip-key/rotate"}} {
		if resp, body := call(t, ts, rt.method, rt.path, ""); resp.StatusCode >= 300 {
			t.Errorf("admin %s %s = %d %s", rt.method, rt.path, resp.StatusCode, body)
		}
	}
}

func TestCreateJoinToken(t *testing.T) {
	c, ts, logs := newLoggedServer(t)
	start := time.Now()
	resp, body := call(t, ts, "POST", "/v1/cluster/join-tokens", "")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	got := decode[JoinTokenResponse](t, body).JoinToken
	tok, err := jointoken.Parse(got.Token)
	if err != nil || tok.ID() != got.ID {
		t.Fatalf("token %q: %v (id %s, want %s)", got.Token, err, tok.ID(), got.ID)
	}
	ttl := got.ExpiresAt.Sub(got.CreatedAt)
	if ttl != cluster.DefaultJoinTokenTTL || got.MaxUses != 1 || got.Uses != 0 || got.State != JoinTokenActive ||
		got.CreatedBy != identitytest.AdminUserID || got.CreatedAt.Before(start.Add(-time.Second)) || got.UsedBy == nil {
		t.Errorf("defaults: %+v (ttl %s)", got, ttl)
	}
	rec, err := c.FSM.JoinToken(got.ID)
	if err != nil || rec.SecretHash != tok.SecretHash() || rec.MaxUses != 1 || !rec.ExpiresAt.Equal(got.ExpiresAt) {
		t.Errorf("recorded %+v, %v", rec, err)
	}

	resp, body = call(t, ts, "POST", "/v1/cluster/join-tokens", `{"ttl":"90m","uses":3}`)
	if got := decode[JoinTokenResponse](t, body).JoinToken; resp.StatusCode != 201 || got.MaxUses != 3 ||
		got.ExpiresAt.Sub(got.CreatedAt) != 90*time.Minute {
		t.Errorf("ttl 90m, uses 3: %d %s", resp.StatusCode, body)
	}
	second := decode[JoinTokenResponse](t, body).JoinToken.Token

	// The token is in the answer to its creation and nowhere else.
	resp, body = call(t, ts, "GET", "/v1/cluster/join-tokens", "")
	for _, secret := range []string{got.Token, second, tok.SecretHash(), "secret"} {
		if strings.Contains(string(body), secret) || strings.Contains(logs.String(), secret) {
			t.Errorf("%.20s… is in the list or the log:\n%s\n%s", secret, body, logs)
		}
	}
	if list := decode[JoinTokenList](t, body).JoinTokens; resp.StatusCode != 200 || len(list) != 2 {
		t.Errorf("list = %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "join token created") || !strings.Contains(logs.String(), got.ID) {
		t.Errorf("the creation is not logged by ID:\n%s", logs)
	}
}

// Bad input is refused with 400 before anything is proposed.
func TestCreateJoinTokenBadInput(t *testing.T) {
	for _, tc := range []struct{ name, body, contains string }{
		{"ttl not a duration", `{"ttl":"soon"}`, "ttl"},
		{"ttl without unit", `{"ttl":"3600"}`, "ttl"},
		{"ttl as seconds", `{"ttl":3600}`, "ttl"},
		{"ttl zero", `{"ttl":"0s"}`, "positive"},
		{"ttl negative", `{"ttl":"-1h"}`, "positive"},
		{"ttl over the cluster's maximum", `{"ttl":"169h"}`, "169h"},
		{"uses zero", `{"uses":0}`, "uses"},
		{"uses negative", `{"uses":-1}`, "uses"},
		{"uses over the maximum", fmt.Sprintf(`{"uses":%d}`, fsm.MaxJoinTokenUses+1), "uses"},
		{"uses as text", `{"uses":"2"}`, "uses"},
		{"uses fractional", `{"uses":1.5}`, "uses"},
		{"unknown field", `{"ttl":"1h","name":"x"}`, `"name"`},
		{"malformed", `{"ttl":`, "JSON"},
		{"not an object", `["1h"]`, "array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ts := newTestServer(t)
			before := c.snapshot()
			resp, body := call(t, ts, "POST", "/v1/cluster/join-tokens", tc.body)
			wantError(t, resp, body, 400, tc.contains)
			if after := c.snapshot(); !reflect.DeepEqual(after, before) || len(c.FSM.JoinTokens()) != 0 {
				t.Errorf("state changed")
			}
		})
	}
}

// A token's state is what a joiner would meet: revoked, used up, expired or
// active, in that order.
func TestJoinTokenStates(t *testing.T) {
	c, ts := newTestServer(t)
	now := time.Now().UTC()
	mk := func(id string, created, expires time.Time, uses int) {
		c.MustApply(t, &fsm.CreateJoinToken{ID: id, SecretHash: sumOf(len(id)), CreatedAt: created, ExpiresAt: expires,
			MaxUses: uses, CreatedBy: "someone"})
	}
	mk("a-active", now, now.Add(time.Hour), 2)
	mk("b-expired", now.Add(-2*time.Hour), now.Add(-time.Hour), 1)
	mk("c-used", now, now.Add(time.Hour), 1)
	mk("d-revoked", now, now.Add(time.Hour), 1)
	c.MustApply(t, &fsm.ConsumeJoinToken{ID: "a-active", SecretHash: sumOf(len("a-active")), Node: "node7", Now: now},
		&fsm.ConsumeJoinToken{ID: "c-used", SecretHash: sumOf(len("c-used")), Node: "node8", Now: now},
		&fsm.RevokeJoinToken{ID: "d-revoked"})

	resp, body := call(t, ts, "GET", "/v1/cluster/join-tokens", "")
	if resp.StatusCode != 200 || strings.Contains(string(body), "hash") || strings.Contains(string(body), sumOf(len("a-active"))) {
		t.Fatalf("list = %d %s", resp.StatusCode, body)
	}
	got := map[string]JoinTokenInfo{}
	for _, tok := range decode[JoinTokenList](t, body).JoinTokens {
		got[tok.ID] = tok
	}
	for id, want := range map[string]string{"a-active": JoinTokenActive, "b-expired": JoinTokenExpired,
		"c-used": JoinTokenUsed, "d-revoked": JoinTokenRevoked} {
		if got[id].State != want {
			t.Errorf("%s: state %q, want %q", id, got[id].State, want)
		}
	}
	if a := got["a-active"]; a.Uses != 1 || a.MaxUses != 2 || !reflect.DeepEqual(a.UsedBy, []string{"node7"}) || a.CreatedBy != "someone" {
		t.Errorf("a-active = %+v", a)
	}
	if !strings.Contains(string(body), `"used_by":[]`) || !got["d-revoked"].Revoked {
		t.Errorf("an unused token lists used_by as []; a revoked one says so: %s", body)
	}
}

// A revoked token admits nobody; revoking is idempotent; an unknown token is 404.
func TestRevokeJoinToken(t *testing.T) {
	c, ts := newTestServer(t)
	resp, body := call(t, ts, "POST", "/v1/cluster/join-tokens", `{"uses":5}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create = %d %s", resp.StatusCode, body)
	}
	created := decode[JoinTokenResponse](t, body).JoinToken
	tok, err := jointoken.Parse(created.Token)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, body = call(t, ts, "DELETE", "/v1/cluster/join-tokens/"+created.ID, "")
		if resp.StatusCode != http.StatusNoContent || len(body) != 0 || indexOf(t, resp) == 0 {
			t.Fatalf("revoke = %d %s", resp.StatusCode, body)
		}
	}
	consume := &fsm.ConsumeJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(), Node: "node9", Now: time.Now().UTC()}
	if _, err := c.Apply(context.Background(), consume); !errors.Is(err, fsm.ErrUnauthorized) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("consuming a revoked token: %v", err)
	}
	_, body = call(t, ts, "GET", "/v1/cluster/join-tokens", "")
	if list := decode[JoinTokenList](t, body).JoinTokens; len(list) != 1 || list[0].State != JoinTokenRevoked || list[0].Uses != 0 {
		t.Errorf("after revoke: %s", body)
	}

	resp, body = call(t, ts, "DELETE", "/v1/cluster/join-tokens/ffffffffffffffffffffffffffffffff", "")
	wantError(t, resp, body, 404, "ffffffffffffffffffffffffffffffff")
	resp, body = call(t, ts, "DELETE", "/v1/cluster/join-tokens/"+strings.Repeat("x", 300), "")
	wantError(t, resp, body, 400, "join token ID")
}

func TestRotateGossipKey(t *testing.T) {
	c, ts := newTestServer(t)
	resp, body := call(t, ts, "POST", "/v1/cluster/gossip-key/rotate", "")
	if got := decode[GossipKeyResponse](t, body).GossipKey; resp.StatusCode != 200 || got.ID == "" || got.ID != c.rotated() {
		t.Errorf("rotate = %d %s (made %q)", resp.StatusCode, body, c.rotated())
	}
	resp, body = call(t, ts, "POST", "/v1/cluster/gossip-key/rotate", `{"key":"mine"}`)
	wantError(t, resp, body, 400, "no body")

	c.set(func(c *fakeCluster) { c.rotateErr = fmt.Errorf("installing the new gossip key: %w", fsm.ErrNoLeader) })
	resp, body = call(t, ts, "POST", "/v1/cluster/gossip-key/rotate", "")
	wantError(t, resp, body, 503, "installing the new gossip key")
}

// Image data on the internal route goes to another node of the cluster, by
// the node certificate it presents, and to nobody else: not to the admin's
// token, not to a node whose certificate the replica revoked.
func TestInternalImageRoute(t *testing.T) {
	c := newFakeCluster(t)
	ts, _ := newImageServer(t, c, "node1")
	img := createQueued(t, ts, "tiny", "raw")
	data := []byte(strings.Repeat("shoal", 20))
	if resp, raw := upload(t, ts, img.ID, data, "application/octet-stream"); resp.StatusCode != 204 {
		t.Fatalf("upload = %d %s", resp.StatusCode, raw)
	}
	path := "/internal/v1/images/" + img.ID + "/file"

	// A user's token alone, even the admin's, or none: refused.
	for _, token := range []string{adminToken, ""} {
		resp, raw := call(t, ts, "GET", path, "", HeaderAuthToken, token)
		wantError(t, resp, raw, 403, "node certificate")
	}

	// Another node, by its certificate: served, without any token.
	node2 := nodeIdentity(t, testCA(), "node2")
	get := func(t *testing.T, cl *http.Client, path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := cl.Get(ts.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	resp, raw := get(t, nodeClient(t, node2), path)
	if resp.StatusCode != 200 || string(raw) != string(data) || resp.Header.Get(HeaderImageChecksum) != sha256Hex(data) {
		t.Fatalf("node2 = %d, %d bytes", resp.StatusCode, len(raw))
	}
	// A node certificate is no token: the public route wants one.
	resp, raw = get(t, nodeClient(t, node2), "/v1/images/"+img.ID+"/file")
	wantError(t, resp, raw, 401, "authentication")

	// Revoked in the replica (its host was removed): refused, even on a
	// connection the handshake admitted.
	leaf := node2.Certificate().Leaf
	c.MustApply(t, &fsm.RecordNodeCert{Serial: pki.SerialOf(leaf), Node: "node2", NotAfter: leaf.NotAfter, Now: time.Now().UTC()},
		&fsm.RevokeNodeCerts{Node: "node2"})
	resp, raw = get(t, nodeClient(t, node2), path)
	wantError(t, resp, raw, 403, "node certificate")

	// A node of another cluster, even one that trusts this cluster's CA,
	// does not get through the handshake.
	other, err := pki.NewCA("other", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stranger := nodeIdentity(t, other, "node3").PeerClientTLS()
	stranger.RootCAs = x509.NewCertPool()
	stranger.RootCAs.AddCert(testCA().Cert)
	stranger.VerifyConnection = nil // it would check the server against its own CA
	tr := &http.Transport{TLSClientConfig: stranger}
	t.Cleanup(tr.CloseIdleConnections)
	if resp, err := (&http.Client{Transport: tr}).Get(ts.URL + path); err == nil {
		resp.Body.Close()
		t.Fatalf("a node of another cluster got %d", resp.StatusCode)
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a node of another cluster: %v, want a refused certificate", err)
	}
}
