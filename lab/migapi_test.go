package lab

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestMigrationCalls checks the migration calls' methods, paths and bodies
// (issue 15's /v1 shapes) and that their answers decode.
func TestMigrationCalls(t *testing.T) {
	type call struct{ method, uri, body string }
	var got call
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = call{r.Method, r.URL.RequestURI(), string(b)}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/migrations":
			_, _ = io.WriteString(w, `{"migrations":[{"id":7,"instance_uuid":"s1","migration_type":"live-migration","status":"completed","source_compute":"h1","dest_compute":"h2","old_flavor":{"name":"f"}}]}`)
		case "/v1/hosts/h1/drain":
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"drain":{"host":"h1","state":"draining","total":3,"remaining":3,"in_progress":["s1"],"failed":[{"instance":"s2","message":"no room"}]}}`)
		case "/v1/hosts":
			_, _ = io.WriteString(w, `{"hosts":[{"name":"h1","state":"up","status":"disabled","disabled_reason":"drain"}]}`)
		default:
			w.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(w, `{"server":{"id":"s1","status":"MIGRATING","host":"h1","flavor":{"id":"2","name":"lab.tiny","ram":128}}}`)
		}
	}))
	defer srv.Close()
	c := &Client{Base: srv.URL, hc: srv.Client()}
	ctx := context.Background()
	action := "/v1/servers/s1/action"
	for _, tc := range []struct {
		do   func() error
		want call
	}{
		{func() error { _, err := c.LiveMigrate(ctx, "s1", "h2"); return err }, call{"POST", action, `{"action":"live-migrate","host":"h2"}`}},
		{func() error { _, err := c.LiveMigrate(ctx, "s1", ""); return err }, call{"POST", action, `{"action":"live-migrate"}`}},
		{func() error { _, err := c.Migrate(ctx, "s1", ""); return err }, call{"POST", action, `{"action":"migrate"}`}},
		{func() error { _, err := c.Migrate(ctx, "s1", "h3"); return err }, call{"POST", action, `{"action":"migrate","host":"h3"}`}},
		{func() error { _, err := c.Resize(ctx, "s1", "lab.tiny.big"); return err }, call{"POST", action, `{"action":"resize","flavor":"lab.tiny.big"}`}},
		{func() error { _, err := c.ConfirmResize(ctx, "s1"); return err }, call{"POST", action, `{"action":"confirm-resize"}`}},
		{func() error { _, err := c.RevertResize(ctx, "s1"); return err }, call{"POST", action, `{"action":"revert-resize"}`}},
		{func() error { _, err := c.Migrations(ctx, MigrationFilter{}); return err }, call{"GET", "/v1/migrations", ""}},
		{func() error {
			_, err := c.Migrations(ctx, MigrationFilter{InstanceID: "s1", Host: "h1", Status: "completed", Kind: "live-migration"})
			return err
		}, call{"GET", "/v1/migrations?host=h1&instance_uuid=s1&migration_type=live-migration&status=completed", ""}},
		{func() error { _, err := c.Drain(ctx, "h1"); return err }, call{"POST", "/v1/hosts/h1/drain", ""}},
		{func() error { _, err := c.DrainStatus(ctx, "h1"); return err }, call{"GET", "/v1/hosts/h1/drain", ""}},
		{func() error { return c.EnableHost(ctx, "h1") }, call{"POST", "/v1/hosts/h1/enable", ""}},
	} {
		if err := tc.do(); err != nil {
			t.Fatalf("%v: %v", tc.want, err)
		}
		if got.method != tc.want.method || got.uri != tc.want.uri || !sameJSON(got.body, tc.want.body) {
			t.Errorf("sent %+v, want %+v", got, tc.want)
		}
	}

	s, err := c.LiveMigrate(ctx, "s1", "h2")
	if err != nil || s.Status != "MIGRATING" || s.Flavor.Name != "lab.tiny" || s.Flavor.RAM != 128 {
		t.Errorf("LiveMigrate answered %+v, %v", s, err)
	}
	ms, err := c.Migrations(ctx, MigrationFilter{})
	if err != nil || len(ms) != 1 || ms[0].ID != 7 || ms[0].Kind != "live-migration" || ms[0].Dest != "h2" || ms[0].OldFlavor.Name != "f" {
		t.Errorf("Migrations answered %+v, %v", ms, err)
	}
	d, err := c.Drain(ctx, "h1")
	if err != nil || d.State != "draining" || d.Total != 3 || len(d.InProgress) != 1 || d.Failed[0].Message != "no room" {
		t.Errorf("Drain answered %+v, %v", d, err)
	}
	hs, err := c.Hosts(ctx)
	if err != nil || len(hs) != 1 || hs[0].Status != "disabled" {
		t.Errorf("Hosts answered %+v, %v", hs, err)
	}
}

// sameJSON reports whether a and b are the same JSON value ("" for no body).
func sameJSON(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
