package cluster

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-project/shoal/cluster/jointoken"
	"github.com/shoal-project/shoal/fsm"
)

// Join token limits: a token is short-lived and for few uses; an admin who
// needs more makes more.
const (
	DefaultJoinTokenTTL = time.Hour
	MaxJoinTokenTTL     = 7 * 24 * time.Hour
	maxTokenAddrs       = 8
)

// CreateJoinToken makes a join token valid for ttl and uses joins, records
// its secret's hash in Raft and returns the token, which exists nowhere
// else: it is shown once. The token names the cluster's API addresses, the
// leader's first.
func (n *Node) CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, createdBy string) (string, fsm.JoinToken, error) {
	if ttl <= 0 || ttl > MaxJoinTokenTTL {
		return "", fsm.JoinToken{}, fmt.Errorf("%w: a join token lives more than 0 and at most %s", fsm.ErrInvalid, MaxJoinTokenTTL)
	}
	if uses < 1 || uses > fsm.MaxJoinTokenUses {
		return "", fsm.JoinToken{}, fmt.Errorf("%w: a join token has 1 to %d uses", fsm.ErrInvalid, fsm.MaxJoinTokenUses)
	}
	tok, err := jointoken.New(n.tls.CA().Fingerprint(), n.tokenAddrs())
	if err != nil {
		return "", fsm.JoinToken{}, err
	}
	now := time.Now().UTC()
	cmd := &fsm.CreateJoinToken{ID: tok.ID(), SecretHash: tok.SecretHash(), CreatedAt: now, ExpiresAt: now.Add(ttl),
		MaxUses: uses, CreatedBy: createdBy}
	if _, err := n.Apply(ctx, cmd); err != nil {
		return "", fsm.JoinToken{}, err
	}
	// What the leader recorded: this replica may not have applied it yet.
	rec := fsm.JoinToken{ID: cmd.ID, CreatedAt: cmd.CreatedAt, ExpiresAt: cmd.ExpiresAt, MaxUses: uses,
		CreatedBy: createdBy}
	return tok.String(), rec, nil
}

// tokenAddrs are the HTTPS addresses a new node may present its token at:
// the leader's, then the other live members'.
func (n *Node) tokenAddrs() []string {
	var addrs []string
	if l, ok := n.Leader(); ok && l.HTTPAddress != "" {
		addrs = append(addrs, l.HTTPAddress)
	}
	for _, m := range n.memberSnapshot() {
		if m.status == "alive" && m.meta.HTTP != "" && !slices.Contains(addrs, m.meta.HTTP) {
			addrs = append(addrs, m.meta.HTTP)
		}
	}
	if len(addrs) == 0 {
		addrs = append(addrs, n.HTTPAddr())
	}
	if len(addrs) > maxTokenAddrs {
		addrs = addrs[:maxTokenAddrs]
	}
	return addrs
}
