//go:build lab

package lab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/lab"
)

// TestLabMetadata runs issue 13 on real guests in one three-host lab: two
// tiny guests, A on h1 and B on h2, each read their own metadata at boot
// and on request (both formats) and never the other's, and A sending from
// B's address gets nothing; the Debian cloud image, on h3, is configured
// by cloud-init (hostname, the keypair's key, a user-data script), once
// from the metadata service and once from a config drive with the metadata
// service out of its reach, each timed from create to "Cloud-init v. ...
// finished" (FigureCloudInitMetadata, FigureCloudInitConfigDrive) and
// logged into with the keypair's private key; last, A's answers follow it
// to its new host when h1 loses power.
func TestLabMetadata(t *testing.T) {
	m := setupMetadata(t)
	for _, s := range []struct {
		name string
		run  func(*testing.T, *metaEnv)
	}{
		{"own metadata", ownMetadata},
		{"spoofed source", spoofedMetadata},
		{"cloud-init via metadata", cloudViaMetadata},
		{"cloud-init via config drive", cloudViaConfigDrive},
		{"metadata follows failover", metadataFailover},
	} {
		t.Run(s.name, func(t *testing.T) { s.run(t, m.with(t)) })
	}
}

// metaEnv is the lab with tiny guests A (on h1) and B (on h2), the cloud
// image kept by h3, and a keypair the API generated.
type metaEnv struct {
	env
	*metaState
}

type metaState struct {
	a, b       *lab.Guest
	aIP, bIP   string
	key        lab.KeyPair
	privateKey string // file, 0600, readable inside the lab hosts

	viaMetadata, viaConfigDrive *lab.Figures
}

func (m *metaEnv) with(t *testing.T) *metaEnv {
	c := *m
	c.env.t = t
	return &c
}

func setupMetadata(t *testing.T) *metaEnv {
	l := lab.Start(t, lab.Config{})
	chk := lab.StartChecker(t, l)
	t.Cleanup(func() { chk.Check(t) })
	m := &metaEnv{env: env{t: t, lab: l, chk: chk}, metaState: &metaState{}}
	figures := reported(t, lab.FigureCloudInitMetadata, lab.FigureCloudInitConfigDrive)
	m.viaMetadata, m.viaConfigDrive = figures[0], figures[1]

	// h2 keeps the tiny image: h1 powers off last, and A, evacuated,
	// fetches it again from h2. h3 keeps the cloud image its guests boot
	// from, so their timings hold no image transfer.
	h1, h2, h3 := l.Host("h1"), l.Host("h2"), l.Host("h3")
	l.UploadTinyImage(h2)
	m.a = l.CreateGuest(h2, "meta-a", h1)
	m.b = l.CreateGuest(h2, "meta-b", h2)
	start := time.Now()
	l.UploadCloudImage(h3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if m.key, err = l.Hosts[0].API.CreateKeyPair(ctx, "lab-key"); err != nil {
		t.Fatalf("generating keypair lab-key: %v", err)
	}
	if m.key.PrivateKey == "" || !strings.HasPrefix(m.key.PublicKey, "ssh-ed25519 ") {
		t.Fatalf("generated keypair: public key %q, private key given: %v", m.key.PublicKey, m.key.PrivateKey != "")
	}
	m.privateKey = filepath.Join(testkit.SharedDir(t, "shoal-lab-key-", 0o700), "lab-key")
	if err := os.WriteFile(m.privateKey, []byte(m.key.PrivateKey), 0o600); err != nil {
		t.Fatal(err)
	}
	sa, sb := m.a.WaitBooted(lab.BootTimeout), m.b.WaitBooted(lab.BootTimeout)
	m.aIP, m.bIP = sa.FixedIP(), sb.FixedIP()
	t.Logf("cloud image on h3 and tiny guests booted within %v: %s %s on %s, %s %s on %s",
		time.Since(start).Round(time.Second), m.a.Name, m.aIP, sa.Host, m.b.Name, m.bIP, sb.Host)
	return m
}

// ownMetadata: each tiny guest printed its own name at boot, read from
// /openstack/latest/meta_data.json, and asked now it gets its own uuid,
// name and fixed IP in both formats, and nothing of the other guest.
func ownMetadata(t *testing.T, m *metaEnv) {
	for _, g := range []struct {
		me, other *lab.Guest
		ip        string
	}{{m.a, m.b, m.aIP}, {m.b, m.a, m.bIP}} {
		ctx, cancel := context.WithTimeout(context.Background(), 2*guestTimeout)
		defer cancel()
		if host, ok, err := g.me.BootMetadata(ctx); err != nil || !ok || host != g.me.Name {
			t.Errorf("%s at boot: metadata hostname %q (read: %v), %v; want %s", g.me.Name, host, ok, err, g.me.Name)
		}
		md := m.metaData(ctx, g.me, "")
		if md.UUID != g.me.ID || md.Name != g.me.Name || md.Hostname != g.me.Name {
			t.Errorf("%s's meta_data.json: uuid %s, name %q, hostname %q; want %s, %q", g.me.Name, md.UUID, md.Name, md.Hostname, g.me.ID, g.me.Name)
		}
		for path, want := range map[string]string{
			"/latest/meta-data/instance-id": ec2InstanceID(g.me.ID),
			"/latest/meta-data/local-ipv4":  g.ip,
			"/latest/meta-data/hostname":    g.me.Name,
		} {
			got := m.get(ctx, g.me, path, "")
			if got.Status != 200 || strings.TrimSpace(got.Body) != want {
				t.Errorf("%s GET %s: %d %q; want 200 %q", g.me.Name, path, got.Status, got.Body, want)
			}
			if strings.Contains(got.Body, g.other.ID) || strings.Contains(got.Body, ec2InstanceID(g.other.ID)) {
				t.Errorf("%s GET %s shows %s's identity: %q", g.me.Name, path, g.other.Name, got.Body)
			}
		}
	}
}

// spoofedMetadata: A asking from B's fixed IP (added on its eth0, its
// route to the metadata service naming it as source) gets no answer at
// all: A's host drops what A sends from an address not its own before
// any DNAT or metadata service sees it. From its own address A is served
// again at once.
func spoofedMetadata(t *testing.T, m *metaEnv) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*guestTimeout)
	defer cancel()
	for _, path := range []string{"/openstack/latest/meta_data.json", "/latest/meta-data/instance-id"} {
		got := m.get(ctx, m.a, path, m.bIP)
		if got.Status != 0 || got.Body != "" {
			t.Errorf("%s GET %s from %s's address %s: %d %q; want no answer (anti-spoofing)", m.a.Name, path, m.b.Name, m.bIP, got.Status, got.Body)
		}
	}
	if md := m.metaData(ctx, m.a, ""); md.UUID != m.a.ID {
		t.Errorf("%s from its own address again: uuid %s, want %s", m.a.Name, md.UUID, m.a.ID)
	}
}

// cloudViaMetadata: the cloud image with the keypair and the user-data
// script, no config drive, comes up configured by DataSourceOpenStack from
// the metadata service.
func cloudViaMetadata(t *testing.T, m *metaEnv) {
	m.cloudBoot("cloud-md", false, "DataSourceOpenStack", m.viaMetadata)
}

// cloudViaConfigDrive: the same with a config drive, while h3 drops every
// packet to 169.254.169.254 (a table of the test's own, prerouting, ahead
// of the DNAT): DataSourceConfigDrive alone configures it.
func cloudViaConfigDrive(t *testing.T, m *metaEnv) {
	h3 := m.lab.Host("h3")
	const table = "lab-no-metadata"
	if out, err := m.exec(h3, "nft", "add table inet "+table+
		"; add chain inet "+table+" pre { type filter hook prerouting priority -300 ; }"+
		"; add rule inet "+table+" pre ip daddr "+lab.MetadataIP+" counter drop"); err != nil {
		t.Fatalf("h3: blocking the metadata service: %v\n%s", err, out)
	}
	defer func() {
		if out, err := m.exec(h3, "nft", "list", "table", "inet", table); err == nil {
			t.Logf("h3's block of the metadata service:\n%s", out)
		}
		if out, err := m.exec(h3, "nft", "delete", "table", "inet", table); err != nil {
			t.Errorf("h3: removing %s: %v\n%s", table, err, out)
		}
	}()
	m.cloudBoot("cloud-cd", true, "DataSourceConfigDrive", m.viaConfigDrive)
}

// cloudBoot boots the cloud image on h3 with the keypair and the user-data
// script, records the time to cloud-init's finish in fig, checks what the
// console shows (the datasource, the hostname, the instance ID, the key in
// authorized_keys and its fingerprint in cloud-init's table), logs in with
// the private key over ssh from h3 to its fixed IP, and deletes it.
func (m *metaEnv) cloudBoot(name string, configDrive bool, datasource string, fig *lab.Figures) {
	t := m.t
	h3 := m.lab.Host("h3")
	start := time.Now()
	g := m.lab.Boot(h3, lab.CreateRequest{Name: name, Flavor: lab.CloudFlavor, Image: lab.CloudImage,
		KeyName: m.key.Name, UserData: lab.CloudUserData(), ConfigDrive: configDrive}, h3)
	defer m.remove([]string{g.ID})
	ci, seen := g.WaitCloudInit(lab.CloudBootTimeout)
	took := seen.Sub(start)
	fig.Add(took)
	t.Logf("%s: cloud-init finished %v after the create (guest uptime %s s), datasource %s",
		name, took.Round(100*time.Millisecond), ci.Up, ci.Datasource)

	fingerprint, err := lab.CloudInitFingerprint(m.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		ok   bool
		got  any
	}{
		{"datasource " + datasource + "*", strings.HasPrefix(ci.Datasource, datasource), ci.Datasource},
		{"hostname " + name, ci.Hostname == name, ci.Hostname},
		{"instance-id " + g.ID, ci.InstanceID == g.ID, ci.InstanceID},
		{"the keypair's key in authorized_keys", strings.Contains(ci.AuthorizedKeys, strings.TrimSpace(m.key.PublicKey)), ci.AuthorizedKeys},
		{"fingerprint " + fingerprint + " for user " + lab.CloudUser, slices.Contains(ci.Fingerprints, fingerprint), ci.Fingerprints},
	} {
		if !c.ok {
			t.Errorf("%s's console: want %s, got %v", name, c.what, c.got)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := g.Server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantDrive := map[bool]string{true: "True", false: ""}[configDrive]
	if s.KeyName != m.key.Name || s.ConfigDrive != wantDrive {
		t.Errorf("server %s shows key_name %q, config_drive %q; want %q, %q", name, s.KeyName, s.ConfigDrive, m.key.Name, wantDrive)
	}
	m.sshLogin(h3, name, s.FixedIP())
}

// sshLogin logs in as the image's user at ip from host with the keypair's
// private key and runs sudo: sshd may start a little after cloud-init's
// final stage, so it is retried. No security group rule lets ssh in: the
// host's own traffic to its guests is not filtered.
func (m *metaEnv) sshLogin(host *lab.Host, name, ip string) {
	m.t.Helper()
	want := name + "\nroot\n"
	start := time.Now()
	testkit.WaitEvery(m.t, lab.Poll, time.Minute, "ssh "+lab.CloudUser+"@"+ip+" with the keypair's key", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := host.Exec(ctx, "ssh", "-i", m.privateKey, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
			lab.CloudUser+"@"+ip, "hostname; sudo -n id -un")
		return err == nil && out == want, fmt.Sprintf("%q, %v", out, err)
	})
	m.t.Logf("%s: ssh %s@%s from %s with the keypair's private key answers hostname %s and sudo root, within %v",
		name, lab.CloudUser, ip, host.Name, name, time.Since(start).Round(100*time.Millisecond))
}

// metadataFailover: h1, A's host, loses power; A boots again on another
// host and reads its own metadata there, at boot and on request.
func metadataFailover(t *testing.T, m *metaEnv) {
	h1 := m.lab.Host("h1")
	if from := m.hostOf(m.a); from != h1 {
		t.Fatalf("%s runs on %s, not h1", m.a.Name, from.Name)
	}
	start := time.Now()
	h1.PowerOff()
	// Until the API moves A, WaitBooted would read h1's console log,
	// which survives the power-off.
	m.waitPlaced(failoverTimeout, m.a.Name+" ACTIVE on another host", []string{m.a.ID}, h1.Name)
	s := m.a.WaitBooted(lab.BootTimeout)
	t.Logf("%s booted again on %s %v after %s lost power", m.a.Name, s.Host, time.Since(start).Round(100*time.Millisecond), h1.Name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*guestTimeout)
	defer cancel()
	if host, ok, err := m.a.BootMetadata(ctx); err != nil || !ok || host != m.a.Name {
		t.Errorf("%s on %s at boot: metadata hostname %q (read: %v), %v; want %s", m.a.Name, s.Host, host, ok, err, m.a.Name)
	}
	if md := m.metaData(ctx, m.a, ""); md.UUID != m.a.ID || md.Hostname != m.a.Name {
		t.Errorf("%s on %s: meta_data.json uuid %s hostname %q; want %s, %s", m.a.Name, s.Host, md.UUID, md.Hostname, m.a.ID, m.a.Name)
	}
}

// metaData is the part of meta_data.json the scenarios check.
type metaData struct {
	UUID     string `json:"uuid"`
	Name     string `json:"name"`
	Hostname string `json:"hostname"`
}

// metaData fetches g's /openstack/latest/meta_data.json (from from, when
// not ""), failing the test unless it is 200 and JSON.
func (m *metaEnv) metaData(ctx context.Context, g *lab.Guest, from string) metaData {
	m.t.Helper()
	got := m.get(ctx, g, "/openstack/latest/meta_data.json", from)
	var md metaData
	if got.Status != 200 {
		m.t.Fatalf("%s GET /openstack/latest/meta_data.json: %d %q", g.Name, got.Status, got.Body)
	}
	if err := json.Unmarshal([]byte(got.Body), &md); err != nil {
		m.t.Fatalf("%s's meta_data.json: %v: %q", g.Name, err, got.Body)
	}
	return md
}

// get is g.HTTPGet of the metadata service, failing the test when the
// guest does not answer.
func (m *metaEnv) get(ctx context.Context, g *lab.Guest, path, from string) lab.HTTPAnswer {
	m.t.Helper()
	got, err := g.HTTPGet(ctx, lab.MetadataIP, path, from)
	if err != nil {
		m.t.Fatal(err)
	}
	return got
}

// ec2InstanceID is the EC2 instance-id of the server id: "i-" and the
// first 8 hex digits of its UUID (Nova's i-%08x of its integer ID).
func ec2InstanceID(id string) string {
	return "i-" + strings.ReplaceAll(id, "-", "")[:8]
}
