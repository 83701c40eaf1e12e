package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// DefaultMigrationURI is the destination libvirtd's URI of a migration;
// %s is the destination's cluster address.
const DefaultMigrationURI = "qemu+tls://%s/system"

// Defaults of the live migration settings left zero (the binary's flags
// show them; its --live-migration-auto-converge defaults to on).
const (
	DefaultLiveMigrationMaxDowntime   = 300 * time.Millisecond
	DefaultLiveMigrationPostCopyAfter = 10 * time.Second
	DefaultLiveMigrationTimeout       = 10 * time.Minute
)

// maxMigrationTargetAnswer bounds a destination's answer (a domain XML).
const maxMigrationTargetAnswer = 1 << 20

// migrationWithDefaults sets the migration settings left zero.
func (c Config) migrationWithDefaults() Config {
	if c.MigrationURI == "" {
		c.MigrationURI = DefaultMigrationURI
	}
	lm := &c.LiveMigration
	if lm.MaxDowntime == 0 {
		lm.MaxDowntime = DefaultLiveMigrationMaxDowntime
	}
	if lm.PostCopyAfter == 0 {
		lm.PostCopyAfter = DefaultLiveMigrationPostCopyAfter
	}
	if lm.Timeout == 0 {
		lm.Timeout = DefaultLiveMigrationTimeout
	}
	lm.Live = false // each migration step says
	return c
}

// validateMigration reports what is wrong with the migration settings.
func (c Config) validateMigration() []error {
	var errs []error
	u := c.MigrationURI
	if strings.Count(u, "%") != 1 || strings.Count(u, "%s") != 1 {
		errs = append(errs, fmt.Errorf("migration URI %q must hold one %%s (the destination's address) and no other %%", u))
	} else if p, err := url.Parse(fmt.Sprintf(u, "192.0.2.1")); err != nil || p.Scheme == "" {
		errs = append(errs, fmt.Errorf("migration URI %q is not a URI", u))
	}
	lm := c.LiveMigration
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"maximum downtime", lm.MaxDowntime}, {"post-copy delay", lm.PostCopyAfter}, {"timeout", lm.Timeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("the live migration %s must be positive, not %v", d.name, d.v))
		}
	}
	return errs
}

// migratorOf prepares incoming migrations (the API's migration-target)
// with the driver, when it can migrate.
func migratorOf(d compute.Driver) api.Migrator {
	if m, ok := d.(compute.Migrator); ok {
		return m
	}
	return nil
}

// hostRecords finds hosts in the replica.
type hostRecords interface {
	Host(name string) (fsm.Host, error)
}

// peers is the reconciler's compute.Peers: a migration's destination,
// found in the replica and asked over the cluster's internal HTTPS with
// this node's certificate.
type peers struct {
	hosts  hostRecords
	client func() *http.Client // the node's InternalClient
	uri    string              // --migration-uri
}

// PrepareMigration asks m's destination to prepare (POST
// /internal/v1/servers/{id}/migration-target) and builds the target from
// its answer and its cluster address.
func (p peers) PrepareMigration(ctx context.Context, inst fsm.Instance, m fsm.Migration) (compute.MigrationTarget, error) {
	h, err := p.hosts.Host(m.Dest)
	if err != nil {
		return compute.MigrationTarget{}, fmt.Errorf("destination %s: %w", m.Dest, err)
	}
	addr := clusterAddress(h)
	if addr == "" || h.HTTPAddress == "" {
		return compute.MigrationTarget{}, fmt.Errorf("destination %s has no address yet", m.Dest)
	}
	u := url.URL{Scheme: "https", Host: h.HTTPAddress,
		Path: strings.Replace(api.InternalMigrationTarget, "{id}", url.PathEscape(inst.ID), 1)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return compute.MigrationTarget{}, err
	}
	resp, err := p.client().Do(req)
	if err != nil {
		return compute.MigrationTarget{}, fmt.Errorf("asking %s to prepare: %w", m.Dest, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMigrationTargetAnswer))
	if err != nil {
		return compute.MigrationTarget{}, fmt.Errorf("reading %s's answer: %w", m.Dest, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e api.ErrorBody
		_ = json.Unmarshal(b, &e)
		msg := e.Error.Message
		if msg == "" {
			msg = strings.TrimSpace(string(b))
		}
		return compute.MigrationTarget{}, fmt.Errorf("%s answered %d: %s", m.Dest, resp.StatusCode, msg)
	}
	var t api.MigrationTarget
	switch err := json.Unmarshal(b, &t); {
	case err != nil:
		return compute.MigrationTarget{}, fmt.Errorf("%s's answer: %w", m.Dest, err)
	case t.Arrived:
		return compute.MigrationTarget{}, fmt.Errorf("%s: %w", m.Dest, compute.ErrArrived)
	case t.DomainXML == "":
		return compute.MigrationTarget{}, fmt.Errorf("%s answered no domain XML", m.Dest)
	}
	return compute.MigrationTarget{Host: m.Dest, URI: fmt.Sprintf(p.uri, uriHost(addr)), Address: addr, DomainXML: t.DomainXML}, nil
}

// clusterAddress is the host part of h's Raft address (else of its HTTP
// address): where peers reach it.
func clusterAddress(h fsm.Host) string {
	for _, a := range []string{h.RaftAddress, h.HTTPAddress} {
		if host, _, err := net.SplitHostPort(a); err == nil && host != "" {
			return host
		}
	}
	return ""
}

// uriHost is addr as a URI's host: an IPv6 address in brackets.
func uriHost(addr string) string {
	if strings.Contains(addr, ":") {
		return "[" + addr + "]"
	}
	return addr
}
