package main

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// TestKeyPairCommands drives the keypair commands, as a member and as the
// admin, and server create's boot flags against the real API.
func TestKeyPairCommands(t *testing.T) {
	n, h := newOneNode(t)
	cmds, alice := identitytest.TenantCommands(n.FSM, "alpha", fsm.RoleMember)
	n.MustApply(t, cmds...)
	run := cliRunner(t, h)
	has := printedAll(t)
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize)).Public())
	if err != nil {
		t.Fatal(err)
	}
	pubFile := writeFile(t, "id_ed25519.pub", ssh.MarshalAuthorizedKey(pub))

	t.Setenv("SHOAL_TOKEN", alice.Token)
	dir := t.TempDir()
	pem := filepath.Join(dir, "gen.pem")
	out := run("keypair create gen --private-key " + pem)
	has("keypair create --private-key", out, "name         gen\n", "type         ssh\n", "user_id      "+alice.UserID+"\n")
	if strings.Contains(out, "PRIVATE KEY") {
		t.Errorf("keypair create --private-key printed the key:\n%s", out)
	}
	if st, err := os.Stat(pem); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v, %v", st, err)
	}
	data, _ := os.ReadFile(pem)
	if _, err := ssh.ParsePrivateKey(data); err != nil {
		t.Errorf("private key file does not parse: %v", err)
	}
	if out := run("keypair create printed"); !strings.HasPrefix(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n") {
		t.Errorf("keypair create printed %.60q…, want the private key alone", out)
	}
	has("keypair import", run("keypair import laptop --public-key "+pubFile), "fingerprint  "+ssh.FingerprintLegacyMD5(pub)+"\n")
	has("keypair list", run("keypair list"), "gen ", "laptop ", "printed ", ssh.FingerprintLegacyMD5(pub)+"  ssh")
	var list api.KeyPairList
	if err := json.Unmarshal([]byte(run("keypair list -o json")), &list); err != nil || len(list.KeyPairs) != 3 {
		t.Errorf("keypair list -o json: %v %+v", err, list)
	}
	has("keypair show", run("keypair show laptop"), "public_key   "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))+"\n")
	has("keypair delete", run("keypair delete printed"), "deleted keypair printed\n")

	// Refused: nothing stored, an existing file untouched.
	before := n.Index()
	for _, args := range []string{
		"keypair create again --private-key " + pem,
		"keypair import bad --public-key " + writeFile(t, "bad.pub", []byte("ssh-rsa AAAA")),
		"keypair import laptop --public-key " + pubFile,
		"keypair create a/b",
		"keypair list --user admin",
	} {
		if _, _, err := runCLI(t, h, args); err == nil {
			t.Errorf("shoal %s succeeded", args)
		}
	}
	if after, again := n.Index(), mustRead(t, pem); after != before || !bytes.Equal(again, data) {
		t.Errorf("refused commands changed something (index %d → %d)", before, after)
	}

	// The admin reaches alice's keypairs by user name; then boots a server
	// with its own key, user data, a property and a config drive.
	t.Setenv("SHOAL_TOKEN", identitytest.AdminToken)
	has("keypair list --user", run("keypair list --user "+alice.UserName), "gen ", "laptop ")
	run("keypair delete gen --user " + alice.UserName)
	if got := n.FSM.KeyPairsOf(alice.UserID); len(got) != 1 {
		t.Errorf("alice has %d keypairs, want laptop alone", len(got))
	}
	run("keypair import mine --public-key " + pubFile)
	run("image create cirros --file " + writeFile(t, "cirros.raw", make([]byte, 1024)) + " --disk-format raw")
	script := "#!/bin/sh\necho hello from user data\n"
	out = run("server create vm --flavor m1.tiny --image cirros --key-name mine --config-drive --property role=web --user-data " +
		writeFile(t, "boot.sh", []byte(script)))
	has("server create", out, "key_name           mine\n", "config_drive       True\n", "metadata           role='web'\n")
	vm := n.FSM.Instances(nil)[0]
	if got, err := base64.StdEncoding.DecodeString(vm.UserData); err != nil || string(got) != script || vm.KeyData == "" {
		t.Errorf("stored user data %q, key %q", got, vm.KeyData)
	}
	if _, _, err := runCLI(t, h, "server create vm2 --flavor m1.tiny --image cirros --key-name laptop"); err == nil {
		t.Error("server create with another user's keypair succeeded")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
