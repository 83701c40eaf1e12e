package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/fsm"
)

// TestClusterCommands drives join tokens and the gossip key rotation against
// the real API.
func TestClusterCommands(t *testing.T) {
	n, h := newOneNode(t)
	run := func(args string) string {
		t.Helper()
		out, errOut, err := runCLI(t, h, args)
		if err != nil || errOut != "" {
			t.Fatalf("shoal %s: %v\n%s", args, err, errOut)
		}
		return out
	}

	// The token alone on stdout, so TOKEN=$(shoal cluster join-token create) works.
	out := run("cluster join-token create")
	token := strings.TrimSuffix(out, "\n")
	tok, err := jointoken.Parse(token)
	if err != nil || out != token+"\n" || strings.ContainsAny(token, " \t\n") {
		t.Fatalf("create printed %q: %v", out, err)
	}
	rec, err := n.FSM.JoinToken(tok.ID())
	if err != nil || rec.SecretHash != tok.SecretHash() || rec.MaxUses != 1 || rec.CreatedBy != identitytest.AdminUserID ||
		rec.ExpiresAt.Sub(rec.CreatedAt) != time.Hour {
		t.Errorf("recorded %+v, %v", rec, err)
	}

	out = run("cluster join-token create --ttl 2h --uses 3 -o json")
	var created api.JoinTokenResponse
	if err := json.Unmarshal([]byte(out), &created); err != nil || !strings.HasPrefix(created.JoinToken.Token, jointoken.Prefix) ||
		created.JoinToken.MaxUses != 3 || created.JoinToken.ExpiresAt.Sub(created.JoinToken.CreatedAt) != 2*time.Hour ||
		created.JoinToken.State != api.JoinTokenActive {
		t.Fatalf("create -o json printed %s (%v)", out, err)
	}
	second := created.JoinToken

	run("cluster join-token revoke " + tok.ID())
	if out := run("cluster join-token revoke " + tok.ID()); out != "revoked join token "+tok.ID()+"\n" {
		t.Errorf("revoke printed %q", out)
	}
	if out := run("cluster join-token revoke " + second.ID + " -o json"); out != "" {
		t.Errorf("revoke -o json printed %q", out)
	}
	n.MustApply(t, &fsm.CreateJoinToken{ID: "fresh", SecretHash: strings.Repeat("ab", 32), CreatedAt: time.Now().UTC(),
		ExpiresAt: time.Now().UTC().Add(time.Hour), MaxUses: 2, CreatedBy: "u1"})
	n.MustApply(t, &fsm.ConsumeJoinToken{ID: "fresh", SecretHash: strings.Repeat("ab", 32), Node: "n7", Now: time.Now().UTC()})

	out = run("cluster join-token list")
	for _, want := range []string{"ID  ", "STATE", "USES", "EXPIRES", "CREATED BY", "USED BY",
		tok.ID() + "  revoked  0/1", second.ID + "  revoked  0/3", "fresh", "active   1/2", "u1", "n7"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out = run("cluster join-token list -o json")
	var list api.JoinTokenList
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list.JoinTokens) != 3 {
		t.Errorf("list -o json printed %s (%v)", out, err)
	}
	for _, secret := range []string{token, second.Token, tok.SecretHash()} {
		if all := run("cluster join-token list") + out; strings.Contains(all, secret) {
			t.Errorf("a list shows a secret:\n%s", all)
		}
	}
	if _, _, err := runCLI(t, h, "cluster join-token revoke ffffffffffffffffffffffffffffffff"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}
	if _, _, err := runCLI(t, h, "cluster join-token create --ttl 200h"); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("a ttl past the cluster's maximum: %v", err)
	}

	if out := run("cluster gossip-key rotate"); out != "gossip key rotated: every live member now uses key 8899aabbccddeeff\n" {
		t.Errorf("rotate printed %q", out)
	}
	if out := run("cluster gossip-key rotate -o json"); out != "{\n  \"gossip_key\": {\n    \"id\": \"8899aabbccddeeff\"\n  }\n}\n" {
		t.Errorf("rotate -o json printed %q", out)
	}
}

// Only the admin may: a member's token is refused, and nothing is made.
func TestClusterCommandsNeedAdmin(t *testing.T) {
	n, h := newOneNode(t)
	cmds, tenant := identitytest.TenantCommands(n.FSM, "alpha", fsm.RoleMember)
	n.MustApply(t, cmds...)
	t.Setenv("SHOAL_TOKEN", tenant.Token)
	for _, args := range []string{"cluster join-token create", "cluster join-token list", "cluster gossip-key rotate"} {
		out, _, err := runCLI(t, h, args)
		if !errors.Is(err, fsm.ErrForbidden) || out != "" {
			t.Errorf("shoal %s as a member: %v, printed %q", args, err, out)
		}
	}
	if tokens := n.FSM.JoinTokens(); len(tokens) != 0 {
		t.Errorf("a member made %d join tokens", len(tokens))
	}
}
