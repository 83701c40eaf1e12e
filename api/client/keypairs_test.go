package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// TestKeyPairs: every keypair method against the real API, the admin's
// reach into another user's keypairs, and refusals as fsm's sentinels.
func TestKeyPairs(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()
	cmds, alice := identitytest.TenantCommands(c.FSM, "alpha", fsm.RoleMember)
	c.MustApply(t, cmds...)
	pub, err := ssh.NewPublicKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)).Public())
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))

	imported, err := cl.CreateKeyPair(ctx, api.KeyPairCreate{Name: "laptop", PublicKey: key})
	if err != nil || imported.PublicKey != key || imported.Fingerprint != ssh.FingerprintLegacyMD5(pub) ||
		imported.UserID != identitytest.AdminUserID || imported.PrivateKey != "" {
		t.Fatalf("CreateKeyPair (import) = %+v, %v", imported, err)
	}
	generated, err := cl.CreateKeyPair(ctx, api.KeyPairCreate{Name: "made", UserID: alice.UserID})
	if err != nil || generated.UserID != alice.UserID || !strings.Contains(generated.PrivateKey, "PRIVATE KEY") {
		t.Fatalf("CreateKeyPair (generate for alice) = %+v, %v", generated.UserID, err)
	}
	if list, err := cl.KeyPairs(ctx, ""); err != nil || len(list) != 1 || list[0].Name != "laptop" {
		t.Errorf("KeyPairs = %+v, %v", list, err)
	}
	if list, err := cl.KeyPairs(ctx, alice.UserID); err != nil || len(list) != 1 || list[0].PrivateKey != "" {
		t.Errorf("KeyPairs(alice) = %+v, %v", list, err)
	}
	if got, err := cl.KeyPair(ctx, "made", alice.UserID); err != nil || got.Fingerprint != generated.Fingerprint {
		t.Errorf("KeyPair(made, alice) = %+v, %v", got, err)
	}
	if _, err := cl.CreateKeyPair(ctx, api.KeyPairCreate{Name: "laptop", PublicKey: key}); !errors.Is(err, fsm.ErrConflict) {
		t.Errorf("duplicate: %v", err)
	}
	if _, err := cl.CreateKeyPair(ctx, api.KeyPairCreate{Name: "bad", PublicKey: "ssh-rsa AAAA"}); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("bad key: %v", err)
	}
	if err := cl.DeleteKeyPair(ctx, "made", alice.UserID); err != nil {
		t.Errorf("DeleteKeyPair(made, alice): %v", err)
	}
	if _, err := cl.KeyPair(ctx, "made", alice.UserID); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("deleted keypair: %v", err)
	}
	if err := cl.DeleteKeyPair(ctx, "", ""); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("DeleteKeyPair without a name: %v", err)
	}
}
