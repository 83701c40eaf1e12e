package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

func TestJoinTokens(t *testing.T) {
	c, cl := newTestClient(t)
	ctx := context.Background()

	tok, err := cl.CreateJoinToken(ctx, 0, 0) // the defaults
	if err != nil || !strings.HasPrefix(tok.Token, "shoaljoin1_") || tok.MaxUses != 1 || tok.State != api.JoinTokenActive ||
		tok.CreatedBy != identitytest.AdminUserID || tok.ExpiresAt.Sub(tok.CreatedAt) != time.Hour {
		t.Fatalf("CreateJoinToken(defaults) = %+v, %v", tok, err)
	}
	other, err := cl.CreateJoinToken(ctx, 30*time.Minute, 4)
	if err != nil || other.MaxUses != 4 || other.ExpiresAt.Sub(other.CreatedAt) != 30*time.Minute {
		t.Fatalf("CreateJoinToken(30m, 4) = %+v, %v", other, err)
	}
	if _, err := cl.CreateJoinToken(ctx, -time.Minute, 1); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("negative ttl: %v", err)
	}
	if _, err := cl.CreateJoinToken(ctx, 0, -2); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("negative uses: %v", err)
	}

	if err := cl.RevokeJoinToken(ctx, tok.ID); err != nil {
		t.Fatalf("RevokeJoinToken: %v", err)
	}
	list, err := cl.JoinTokens(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("JoinTokens = %+v, %v", list, err)
	}
	states := map[string]string{}
	for _, jt := range list {
		states[jt.ID] = jt.State
	}
	if states[tok.ID] != api.JoinTokenRevoked || states[other.ID] != api.JoinTokenActive {
		t.Errorf("states = %v", states)
	}
	if err := cl.RevokeJoinToken(ctx, "ffffffffffffffffffffffffffffffff"); !errors.Is(err, fsm.ErrNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}
	if err := cl.RevokeJoinToken(ctx, ""); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("revoking no token: %v", err)
	}
	if rec, _ := c.FSM.JoinToken(tok.ID); !rec.Revoked {
		t.Errorf("the record is not revoked: %+v", rec)
	}

	id, err := cl.RotateGossipKey(ctx)
	if err != nil || id != "0011223344556677" {
		t.Errorf("RotateGossipKey = %q, %v", id, err)
	}
}
