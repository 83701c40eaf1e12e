package fsm_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// clusterSecurity returns one join token, node certificate or gossip key
// command. It draws only from g.security, so that adding these commands left
// the other entries of each seed's log as they were. Tokens live for
// minutes, certificates a little longer (entries are a second apart), and now
// and then a proposer's clock is a day ahead, so expiry and pruning happen.
// Names come from small pools, half the time known to the model (hosts are
// the other commands' ones, so removing a host revokes), so that conflicts,
// unknown objects and used-up tokens all happen.
func (g *logGen) clusterSecurity(at time.Time) fsm.Command {
	r := g.security
	pick := func(prefix string, n int) string { return fmt.Sprintf("%s%d", prefix, r.IntN(n)) }
	secret := func(id string) string { return strings.Repeat(fmt.Sprintf("%02x", id[len(id)-1]), 32) }
	if r.IntN(15) == 0 {
		at = at.Add(25 * time.Hour)
	}
	tokens := g.model.JoinTokens()
	token := func() string {
		if len(tokens) > 0 && r.IntN(4) != 0 {
			return tokens[len(tokens)-1-r.IntN(min(len(tokens), 2))].ID // a recent one
		}
		return pick("jt", 12)
	}
	newKey := func() string { return fmt.Sprintf("00000000000000%02x", r.IntN(4)) }
	keys, _ := g.model.GossipKeys()
	key := func() string {
		if len(keys) > 0 && r.IntN(3) != 0 {
			return keys[r.IntN(len(keys))].ID
		}
		return newKey()
	}
	switch r.IntN(12) {
	case 0, 1:
		id := pick("jt", 12)
		c := &fsm.CreateJoinToken{ID: id, SecretHash: secret(id), CreatedAt: at, ExpiresAt: at.Add(time.Duration(1+r.IntN(300)) * time.Second),
			MaxUses: 1 + r.IntN(3), CreatedBy: "u-admin"}
		if r.IntN(10) == 0 {
			c.MaxUses = 0 // invalid
		}
		return c
	case 2, 3, 4:
		id := token()
		c := &fsm.ConsumeJoinToken{ID: id, SecretHash: secret(id), Node: pick("h", 8), Now: at}
		if r.IntN(6) == 0 {
			c.SecretHash = secret("x") // wrong
		}
		return c
	case 5:
		return &fsm.RevokeJoinToken{ID: token()}
	case 6, 7:
		return &fsm.RecordNodeCert{Serial: pick("c", 16), Node: pick("h", 8), NotAfter: at.Add(time.Duration(r.IntN(600)-10) * time.Second), Now: at}
	case 8:
		return &fsm.RevokeNodeCerts{Node: pick("h", 8)}
	case 9:
		c := &fsm.InstallGossipKey{ID: newKey(), Sealed: bytes.Repeat([]byte{byte(r.IntN(256))}, 60)}
		if r.IntN(10) == 0 {
			c.Sealed = nil // invalid
		}
		return c
	case 10:
		return &fsm.UseGossipKey{ID: key()}
	default:
		return &fsm.RemoveGossipKey{ID: key()}
	}
}
