package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"

	"github.com/shoal-project/shoal/fsm"
)

// gophercloud's os-keypairs calls, requests and results as they are, work
// against /v1/keypairs: Nova's path is os-keypairs, so this test alone maps
// it onto ours (the Nova paths themselves come with issue 14).
func TestKeyPairsGophercloud(t *testing.T) {
	c := newFakeCluster(t)
	m := c.addTenant(t, "alpha", fsm.RoleMember)
	h := New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Auth: testAuth()}).Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.Replace(r.URL.Path, "/v1/os-keypairs", "/v1/keypairs", 1)
		r.URL.RawPath = ""
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	client := func(token string) *gophercloud.ServiceClient {
		p := &gophercloud.ProviderClient{TokenID: token, HTTPClient: *ts.Client()}
		return &gophercloud.ServiceClient{ProviderClient: p, Endpoint: ts.URL + "/v1/"}
	}
	nova, admin := client(m.Token), client(adminToken)
	ctx := context.Background()

	key, fp := testKey(t, 1)
	imported, err := keypairs.Create(ctx, nova, keypairs.CreateOpts{Name: "imported", PublicKey: key, Type: "ssh"}).Extract()
	if err != nil || imported.Name != "imported" || imported.PublicKey != key || imported.Fingerprint != fp ||
		imported.Type != "ssh" || imported.UserID != m.UserID || imported.PrivateKey != "" {
		t.Fatalf("keypairs.Create (import) = %+v, %v", imported, err)
	}
	generated, err := keypairs.Create(ctx, nova, keypairs.CreateOpts{Name: "generated"}).Extract()
	if err != nil || !strings.Contains(generated.PrivateKey, "OPENSSH PRIVATE KEY") || generated.Fingerprint == "" {
		t.Fatalf("keypairs.Create (generate): %v", err)
	}
	pages, err := keypairs.List(nova, nil).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := keypairs.ExtractKeyPairs(pages)
	if err != nil || len(listed) != 2 || listed[0].Name != "generated" || listed[1].Fingerprint != fp || listed[0].PrivateKey != "" {
		t.Errorf("keypairs.List = %+v, %v", listed, err)
	}
	got, err := keypairs.Get(ctx, nova, "imported", nil).Extract()
	if err != nil || got.PublicKey != key {
		t.Errorf("keypairs.Get = %+v, %v", got, err)
	}

	// The admin reaches the member's keypairs with user_id (microversion 2.10's options).
	pages, err = keypairs.List(admin, keypairs.ListOpts{UserID: m.UserID}).AllPages(ctx)
	if listed, _ := keypairs.ExtractKeyPairs(pages); err != nil || len(listed) != 2 {
		t.Errorf("admin keypairs.List(user_id) = %+v, %v", listed, err)
	}
	if err := keypairs.Delete(ctx, admin, "generated", keypairs.DeleteOpts{UserID: m.UserID}).ExtractErr(); err != nil {
		t.Errorf("admin keypairs.Delete(user_id): %v", err)
	}
	if err := keypairs.Delete(ctx, nova, "imported", nil).ExtractErr(); err != nil {
		t.Errorf("keypairs.Delete: %v", err)
	}
	if _, err := keypairs.Get(ctx, nova, "imported", nil).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Errorf("keypairs.Get after delete: %v, want 404", err)
	}
	if n := len(c.FSM.KeyPairsOf(m.UserID)); n != 0 {
		t.Errorf("%d keypairs left", n)
	}
}
