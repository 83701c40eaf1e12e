package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

func TestConfigMigration(t *testing.T) {
	c := Config{Name: "n1", DataDir: "/d", Driver: DriverFake}.WithDefaults()
	want := compute.MigrateOptions{MaxDowntime: DefaultLiveMigrationMaxDowntime, PostCopyAfter: DefaultLiveMigrationPostCopyAfter,
		Timeout: DefaultLiveMigrationTimeout}
	if c.MigrationURI != DefaultMigrationURI || c.LiveMigration != want {
		t.Errorf("defaults: %q %+v", c.MigrationURI, c.LiveMigration)
	}
	for _, tt := range []struct {
		name   string
		change func(*Config)
		want   string // in the error; empty: valid
	}{
		{"tcp", func(c *Config) { c.MigrationURI = "qemu+tcp://%s/system" }, ""},
		{"with a port", func(c *Config) { c.MigrationURI = "qemu+tls://%s:16514/system" }, ""},
		{"no %s", func(c *Config) { c.MigrationURI = "qemu+tls://host/system" }, "must hold one %s"},
		{"two %s", func(c *Config) { c.MigrationURI = "qemu+tls://%s/%s" }, "must hold one %s"},
		{"another verb", func(c *Config) { c.MigrationURI = "qemu+tls://%s/%d" }, "must hold one %s"},
		{"not a URI", func(c *Config) { c.MigrationURI = "%s" }, "not a URI"},
		{"negative downtime", func(c *Config) { c.LiveMigration.MaxDowntime = -time.Second }, "maximum downtime"},
		{"negative timeout", func(c *Config) { c.LiveMigration.Timeout = -time.Second }, "timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Name: "n1", DataDir: "/d", Driver: DriverFake}
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

type hostTable map[string]fsm.Host

func (h hostTable) Host(name string) (fsm.Host, error) {
	if r, ok := h[name]; ok {
		return r, nil
	}
	return fsm.Host{}, fsm.ErrNotFound
}

// Peers asks the destination found in the replica, at its HTTP address,
// and builds the target from its answer and its cluster address.
func TestPeersPrepareMigration(t *testing.T) {
	const id = "7b000000-0000-4000-8000-000000000001"
	var asked string
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.Method + " " + r.URL.Path
		if strings.Contains(r.URL.Path, "arrived") {
			json.NewEncoder(w).Encode(api.MigrationTarget{Arrived: true})
			return
		}
		if strings.Contains(r.URL.Path, "refused") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(api.ErrorBody{Error: api.ErrorDetail{Code: 409, Kind: "conflict", Message: "not the destination"}})
			return
		}
		json.NewEncoder(w).Encode(api.MigrationTarget{DomainXML: "<domain/>"})
	}))
	t.Cleanup(ts.Close)
	httpAddr := strings.TrimPrefix(ts.URL, "https://")
	p := peers{hosts: hostTable{
		"node2": {Name: "node2", RaftAddress: "10.0.0.2:7947", HTTPAddress: httpAddr},
		"node6": {Name: "node6", RaftAddress: "[fd00::6]:7947", HTTPAddress: httpAddr},
		"node9": {Name: "node9"},
	}, client: ts.Client, uri: "qemu+tcp://%s/system"}
	ctx := context.Background()

	got, err := p.PrepareMigration(ctx, fsm.Instance{ID: id}, fsm.Migration{Dest: "node2"})
	want := compute.MigrationTarget{Host: "node2", URI: "qemu+tcp://10.0.0.2/system", Address: "10.0.0.2", DomainXML: "<domain/>"}
	if err != nil || got != want || asked != "POST /internal/v1/servers/"+id+"/migration-target" {
		t.Fatalf("= %+v, %v (asked %q)", got, err, asked)
	}
	got, err = p.PrepareMigration(ctx, fsm.Instance{ID: id}, fsm.Migration{Dest: "node6"})
	if err != nil || got.URI != "qemu+tcp://[fd00::6]/system" || got.Address != "fd00::6" {
		t.Errorf("IPv6: %+v, %v", got, err)
	}
	if _, err := p.PrepareMigration(ctx, fsm.Instance{ID: "refused"}, fsm.Migration{Dest: "node2"}); err == nil ||
		!strings.Contains(err.Error(), "409: not the destination") {
		t.Errorf("refused: %v", err)
	}
	if _, err := p.PrepareMigration(ctx, fsm.Instance{ID: "arrived"}, fsm.Migration{Dest: "node2"}); !errors.Is(err, compute.ErrArrived) {
		t.Errorf("arrived: %v", err)
	}
	for _, dest := range []string{"node9", "nowhere"} {
		if _, err := p.PrepareMigration(ctx, fsm.Instance{ID: id}, fsm.Migration{Dest: dest}); err == nil {
			t.Errorf("%s: no error", dest)
		}
	}
}
