package agent

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// OpenrcFile is the bootstrap admin's credentials in the data dir, in
// OpenStack's openrc form: `source` it and the CLI (or the openstack CLI)
// is the cloud's administrator.
const OpenrcFile = "admin-openrc"

// adminPasswordBytes is how much randomness a made-up admin password has.
const adminPasswordBytes = 24

// ErrAdminPassword is a refused --admin-password-file.
var ErrAdminPassword = errors.New("admin password file")

// bootstrapping is cluster.Config.Bootstrapping for the agent: on a real
// bootstrap only, it takes the admin's password (made up, or the operator's
// file), writes admin-openrc, then gives the cluster Keystone's bootstrap
// with the password's hash. The password itself goes nowhere else: not into
// Raft, not into a log.
func (a *Agent) bootstrapping(httpAddr string) (*fsm.BootstrapIdentity, error) {
	password, err := adminPassword(a.cfg.AdminPasswordFile)
	if err != nil {
		return nil, err
	}
	id, err := newBootstrapIdentity(password)
	if err != nil {
		return nil, err
	}
	// The cluster has just made its CA (before this hook), so the file the
	// openrc tells clients to trust is there.
	caFile, err := filepath.Abs(filepath.Join(cluster.TLSDir(a.cfg.DataDir), pki.CACertFile))
	if err != nil {
		return nil, err
	}
	if a.cfg.TLSCertFile != "" {
		// The API presents the operator's certificate, which clients check
		// against their own roots; the cluster CA would refuse it.
		caFile = ""
	}
	path, err := writeOpenrc(a.cfg.DataDir, "https://"+httpAddr, caFile, password)
	if err != nil {
		return nil, err
	}
	a.log.Info("wrote the bootstrap admin's credentials: `source` this file to use the cluster", "path", path)
	return id, nil
}

// adminPassword reads the operator's password file, or makes a password up
// when there is none. The file must be the operator's alone (it holds a
// secret, and one others can write lets them choose the admin's password),
// and the password fit bcrypt: refused, never truncated.
func adminPassword(file string) (string, error) {
	if file == "" {
		b := make([]byte, adminPasswordBytes)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	b, err := readPrivate(file, identity.MaxPasswordBytes+3)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrAdminPassword, err)
	}
	pw := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	switch {
	case pw == "":
		return "", fmt.Errorf("%w %s is empty", ErrAdminPassword, file)
	case len(pw) > identity.MaxPasswordBytes:
		return "", fmt.Errorf("%w %s holds over %d bytes, bcrypt's limit: choose a shorter password",
			ErrAdminPassword, file, identity.MaxPasswordBytes)
	}
	return pw, nil
}

// newBootstrapIdentity is Keystone's bootstrap with fresh IDs (32 lowercase
// hex, as Keystone's) and the password's bcrypt hash.
func newBootstrapIdentity(password string) (*fsm.BootstrapIdentity, error) {
	hash, err := identity.HashPassword(password)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAdminPassword, err)
	}
	var ids [5]string
	for i := range ids {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		ids[i] = hex.EncodeToString(b)
	}
	return &fsm.BootstrapIdentity{AdminProjectID: ids[0], AdminUserID: ids[1], AdminPasswordHash: hash,
		AdminRoleID: ids[2], MemberRoleID: ids[3], ReaderRoleID: ids[4]}, nil
}

// openrc is the file's text for an API at apiURL (https://host:port) whose
// certificate caFile's CA signed; with no caFile (the operator's own API
// certificate) clients use their system's roots.
func openrc(apiURL, caFile, password string) string {
	trust := "export OS_CACERT=" + shellQuote(caFile)
	if caFile == "" {
		trust = "# The API presents the operator's own certificate (--tls-cert): point OS_AUTH_URL and\n" +
			"# SHOAL_ADDR at the name it carries; clients trust it through their system's roots."
	}
	return fmt.Sprintf(`# The shoal cluster's bootstrap administrator (OpenStack openrc form).
# Keep it private: source it to use the shoal or openstack CLI as admin.
export OS_AUTH_URL=%s
export OS_USERNAME=admin
export OS_PASSWORD=%s
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_IDENTITY_API_VERSION=3
%s
export SHOAL_ADDR=%s
`, shellQuote(apiURL+"/identity/v3"), shellQuote(password), trust, shellQuote(apiURL))
}

// shellQuote quotes s for sh: inside single quotes nothing is special but
// the single quote itself, which is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeOpenrc writes dir/admin-openrc, 0600 from its first byte, through a
// temporary file renamed into place: a crash leaves the old file or the new,
// never half of one.
func writeOpenrc(dir, apiURL, caFile, password string) (string, error) {
	path := filepath.Join(dir, OpenrcFile)
	f, err := os.CreateTemp(dir, "."+OpenrcFile+"-*")
	if err != nil {
		return "", fmt.Errorf("admin-openrc: %w", err)
	}
	defer os.Remove(f.Name()) // nothing left to remove after the rename
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(openrc(apiURL, caFile, password))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return "", fmt.Errorf("admin-openrc: %w", err)
	}
	return path, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// publishKey makes this node's token signing key known to the cluster, so
// every node can verify the tokens it issues (and it can issue any): it
// proposes the key until this node's replica holds it, then watches the
// replica and proposes it again should it lose it (a restored snapshot
// older than the key). A node that belongs to no cluster yet waits for one.
func (a *Agent) publishKey(ctx context.Context) {
	state := a.node.FSM()
	key := fsm.SigningKey{ID: a.signer.KeyID(), Host: a.cfg.Name, PublicKey: a.signer.PublicKey()}
	retry := backoff.Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second, Jitter: true}
	for {
		changed := state.WatchCh()
		if _, err := state.SigningKey(key.ID); err == nil || state.ClusterID() == "" {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				continue
			}
		}
		key.Created = time.Now().UTC()
		idx, err := a.node.Apply(ctx, &fsm.PublishSigningKey{Key: key})
		if err == nil {
			retry.Reset()
			a.log.Info("published this node's token signing key", "kid", key.ID)
			if state.WaitForIndex(ctx, idx) != nil {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		a.log.Warn("publishing this node's token signing key; retrying", "kid", key.ID, "err", err)
		if !retry.Wait(ctx) {
			return
		}
	}
}
