package nova_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// TestVersionDocuments follows the version list's self links, as Tempest's
// TestVersions and keystoneauth's discovery do, without a token.
func TestVersionDocuments(t *testing.T) {
	e := apitest.New(t, nova.New())
	for _, path := range []string{"/compute", "/compute/"} {
		resp, raw := e.Do(t, "GET", path, "", "")
		var list struct {
			Versions []nova.Version `json:"versions"`
		}
		if err := json.Unmarshal(raw, &list); err != nil || resp.StatusCode != 200 || len(list.Versions) != 2 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, raw)
		}
		if v := list.Versions[0]; v.ID != "v2.0" || v.Status != "SUPPORTED" {
			t.Errorf("first version %+v, want v2.0 SUPPORTED", v)
		}
		if v := list.Versions[1]; v.ID != "v2.1" || v.Status != "CURRENT" || v.Version != nova.MaxVersion || v.MinVersion != "2.1" {
			t.Errorf("second version %+v", v)
		}
		for _, v := range list.Versions {
			if len(v.Links) != 1 || v.Links[0].Rel != "self" || v.MediaTypes != nil {
				t.Fatalf("links of %s: %+v", v.ID, v.Links)
			}
			self := v.Links[0].Href
			resp, raw := e.Do(t, "GET", strings.TrimPrefix(self, e.URL()), "", "")
			var doc struct {
				Version nova.Version `json:"version"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", self, resp.StatusCode, raw)
			}
			if doc.Version.ID != v.ID || doc.Version.Links[0] != v.Links[0] || len(doc.Version.MediaTypes) != 1 ||
				doc.Version.Links[1].Rel != "describedby" {
				t.Errorf("document of %s: %s", v.ID, raw)
			}
		}
	}
	if resp, raw := e.Do(t, "GET", "/compute/v2.1", "", ""); resp.StatusCode != 200 || !strings.Contains(string(raw), `"id":"v2.1"`) {
		t.Errorf("GET /compute/v2.1: %d %s", resp.StatusCode, raw)
	}
}

// TestMicroversionNegotiation: the compute routes answer with the version
// they served, refuse one out of range (406) or malformed (400) with Nova's
// faults, and carry Nova's request-ID headers, errors included.
func TestMicroversionNegotiation(t *testing.T) {
	e := apitest.New(t, nova.New())
	for _, c := range []struct {
		header, value string
		status        int
		body          string
	}{
		{"", "", 200, ""},
		{"X-OpenStack-Nova-API-Version", "2.1", 200, ""},
		{"OpenStack-API-Version", "compute latest", 200, ""},
		{"OpenStack-API-Version", "compute 2.101", 406,
			`{"computeFault":{"code":406,"message":"Version 2.101 is not supported by the API. Minimum is 2.1 and maximum is ` + nova.MaxVersion + `."}}`},
		{"X-OpenStack-Nova-API-Version", "2.0", 406, ""},
		{"X-OpenStack-Nova-API-Version", "two", 400,
			`{"badRequest":{"code":400,"message":"API Version String two is of invalid format. Must be of format MajorNum.MinorNum."}}`},
	} {
		var headers []string
		if c.header != "" {
			headers = []string{c.header, c.value}
		}
		resp, raw := e.Do(t, "GET", "/compute/v2.1/extensions", "", apitest.AdminToken, headers...)
		if resp.StatusCode != c.status || c.body != "" && strings.TrimSpace(string(raw)) != c.body {
			t.Errorf("%s %s: %d %s", c.header, c.value, resp.StatusCode, raw)
		}
		id := resp.Header.Get("X-Openstack-Request-Id")
		if !strings.HasPrefix(id, "req-") || resp.Header.Get("X-Compute-Request-Id") != id || resp.Header.Get("X-Request-Id") != id {
			t.Errorf("%s %s: request IDs %v", c.header, c.value, resp.Header)
		}
		want := "2.1" // no header: the minimum; latest: the maximum
		if c.value == "compute latest" {
			want = nova.MaxVersion
		}
		if c.status == 200 && (resp.Header.Get("OpenStack-API-Version") != "compute "+want ||
			resp.Header.Get("X-OpenStack-Nova-API-Version") != want) {
			t.Errorf("%s %s: version headers %v", c.header, c.value, resp.Header)
		}
	}
	// The API's own errors under /compute are Nova faults too; a 401 keeps
	// keystonemiddleware's body.
	for _, c := range []struct {
		method, path, token string
		status              int
		fault               string
	}{
		{"GET", "/compute/v2.1/no-such-thing", apitest.AdminToken, http.StatusNotFound, "itemNotFound"},
		{"DELETE", "/compute/v2.1/extensions", apitest.AdminToken, http.StatusMethodNotAllowed, "badMethod"},
		{"GET", "/compute/v2.1/extensions", "", http.StatusUnauthorized, "error"},
	} {
		resp, raw := e.Do(t, c.method, c.path, "", c.token)
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil || resp.StatusCode != c.status || body[c.fault] == nil {
			t.Errorf("%s %s: %d %s", c.method, c.path, resp.StatusCode, raw)
		}
	}
}
