package lab

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/internal/testkit"
)

// The Debian cloud-init guest (scripts/build-cloud-image.sh) as the lab
// runs it. Its serial console has no shell: what it did is read from the
// console log, where cloud-init writes its fingerprints table and final
// message, and where CloudUserData's script writes what it finds.
const (
	CloudImage  = "lab-debian-cloud"
	CloudFlavor = "lab.cloud" // 1 vCPU, CloudRAM MiB, 2 GiB (the image's disk)
	CloudRAM    = 512         // MiB

	// CloudBootTimeout bounds a boot to "Cloud-init v. ... finished":
	// 70–100 s alone under TCG, more while the machine is busy.
	CloudBootTimeout = 10 * time.Minute

	// CloudUser is the image's default user, who gets the keypair's key.
	CloudUser = "debian"
)

// markCloud starts the lines CloudUserData's script writes on the console.
const markCloud = "shoal-lab-cloud: "

// UploadCloudImage builds the cloud image (cached outside the clone by
// scripts/build-cloud-image.sh, copied to .lab/images) and registers it as
// CloudImage through the CLI on via, which keeps it, with the flavor
// CloudFlavor.
func (l *Lab) UploadCloudImage(via *Host) {
	l.t.Helper()
	path := filepath.Join(l.Root, ".lab", "images", "shoal-debian-cloud.qcow2")
	if out, err := exec.Command(filepath.Join(l.Root, "scripts", "build-cloud-image.sh"), path).CombinedOutput(); err != nil {
		l.t.Fatalf("building the cloud image: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := via.API.CreateFlavor(ctx, CloudFlavor, 1, CloudRAM, 2); err != nil {
		l.t.Fatalf("creating flavor %s: %v", CloudFlavor, err)
	}
	dir, err := os.MkdirTemp("", "shoal-lab-image-")
	if err != nil {
		l.t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l.CLI(via, dir, "image", "create", CloudImage, "--file", path, "--disk-format", "qcow2")
}

// CloudUserData is a user-data script (base64, as a server create takes
// it) that writes on the console what the guest was given: its hostname,
// its cloud-init instance ID and the default user's authorized_keys, then
// a last line, all read back by CloudInit.
func CloudUserData() string {
	script := `#!/bin/sh
c=/dev/console
echo "` + markCloud + `hostname $(hostname)" >$c
echo "` + markCloud + `instance-id $(cat /var/lib/cloud/data/instance-id)" >$c
echo "` + markCloud + `authorized_keys $(tr '\n' ' ' </home/` + CloudUser + `/.ssh/authorized_keys)" >$c
echo "` + markCloud + `user-data done" >$c
`
	return base64.StdEncoding.EncodeToString([]byte(script))
}

// CloudInit is what a cloud guest's console shows of cloud-init.
type CloudInit struct {
	// Finished is "Cloud-init v. ... finished" seen; Datasource the one
	// it names (DataSourceOpenStackLocal, DataSourceConfigDrive, …) and
	// Up the guest's uptime it gives, in seconds.
	Finished   bool
	Datasource string
	Up         string
	// From CloudUserData's script ("" when it printed nothing): UserData
	// is its last line seen.
	UserData       bool
	Hostname       string
	InstanceID     string
	AuthorizedKeys string
	// Fingerprints are those of the table cloud-init prints of CloudUser's
	// authorized keys (SHA-256, colon hex: CloudInitFingerprint).
	Fingerprints []string
}

var (
	finishedRE    = regexp.MustCompile(`Cloud-init v\. \S+ finished at [^\n]*?Datasource (\S+)[^\n]*?Up ([0-9.]+) seconds`)
	keysHeaderRE  = regexp.MustCompile(`ci-info: \++Authorized keys from \S+ for user ` + CloudUser + `\++`)
	fingerprintRE = regexp.MustCompile(`^ci-info: \|\s*\S+\s*\|\s*([0-9a-f]{2}(?::[0-9a-f]{2})+)\s*\|`)
)

// parseCloudInit reads a cloud guest's console log. Lines written by
// services can carry a "[ uptime] unit[pid]: " prefix: markers are found
// anywhere in a line.
func parseCloudInit(console string) CloudInit {
	console = strings.ReplaceAll(console, "\r", "")
	var ci CloudInit
	if m := finishedRE.FindStringSubmatch(console); m != nil {
		ci.Finished, ci.Datasource, ci.Up = true, strings.TrimSuffix(m[1], "."), m[2]
	}
	inKeys := false
	for _, line := range strings.Split(console, "\n") {
		if i := strings.Index(line, markCloud); i >= 0 {
			field, value, _ := strings.Cut(line[i+len(markCloud):], " ")
			switch field {
			case "hostname":
				ci.Hostname = value
			case "instance-id":
				ci.InstanceID = value
			case "authorized_keys":
				ci.AuthorizedKeys = strings.TrimSpace(value)
			case "user-data":
				ci.UserData = value == "done"
			}
		}
		if i := strings.Index(line, "ci-info: "); i >= 0 {
			line = line[i:]
			switch {
			case strings.HasPrefix(line, "ci-info: ++"): // a table's title
				inKeys = keysHeaderRE.MatchString(line)
			case inKeys:
				if m := fingerprintRE.FindStringSubmatch(line); m != nil {
					ci.Fingerprints = append(ci.Fingerprints, m[1])
				}
			}
		}
	}
	return ci
}

// CloudInitFingerprint is the fingerprint cloud-init prints of an
// authorized key (the line as in authorized_keys): the SHA-256 of the key's
// wire form in colon-separated hex.
func CloudInitFingerprint(authorizedKey string) (string, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(authorizedKey))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(key.Marshal())
	pairs := make([]string, len(sum))
	for i := range sum {
		pairs[i] = hex.EncodeToString(sum[i : i+1])
	}
	return strings.Join(pairs, ":"), nil
}

// WaitCloudInit waits until the guest, ACTIVE, has run CloudUserData's
// script and cloud-init has finished, as its console on its host shows,
// and returns what the console shows and when the finish was first seen.
// A server in ERROR fails the test at once.
func (g *Guest) WaitCloudInit(timeout time.Duration) (CloudInit, time.Time) {
	g.lab.t.Helper()
	var ci CloudInit
	var seen time.Time
	testkit.WaitEvery(g.lab.t, 500*time.Millisecond, timeout, "cloud-init finished on "+g.Name, func() (bool, string) {
		s, err := g.Server(context.Background())
		if err != nil {
			return false, err.Error()
		}
		if s.Status == "ERROR" {
			g.lab.t.Fatalf("server %s is in ERROR", g.Name)
		}
		if s.Status != "ACTIVE" || s.Host == "" {
			return false, fmt.Sprintf("%s on %q", s.Status, s.Host)
		}
		log, err := g.console(s.Host)
		if err != nil {
			return false, err.Error()
		}
		ci = parseCloudInit(log)
		if !ci.Finished {
			return false, "console, last lines:\n" + tail(strings.ReplaceAll(log, "\r", ""), 15)
		}
		seen = time.Now()
		if !ci.UserData {
			g.lab.t.Fatalf("%s: cloud-init finished (%s) without the user-data script's last line; console:\n%s",
				g.Name, ci.Datasource, tail(strings.ReplaceAll(log, "\r", ""), 60))
		}
		return true, ""
	})
	return ci, seen
}

// KeyPair is a keypair as the API shows it; PrivateKey is only in the
// answer to a create that generated the key.
type KeyPair struct {
	Name        string `json:"name"`
	PublicKey   string `json:"public_key"`
	Fingerprint string `json:"fingerprint"`
	Type        string `json:"type"`
	PrivateKey  string `json:"private_key"`
}

// CreateKeyPair has the API generate a keypair named name for the admin.
func (c *Client) CreateKeyPair(ctx context.Context, name string) (KeyPair, error) {
	body := map[string]any{"keypair": map[string]string{"name": name}}
	return wrapped[KeyPair](ctx, c, http.MethodPost, "/v1/keypairs", body, "keypair")
}

// DeleteKeyPair deletes the admin's keypair named name.
func (c *Client) DeleteKeyPair(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/keypairs/"+url.PathEscape(name), nil, nil)
}
