package api

import (
	"context"

	"github.com/shoal-project/shoal/fsm"
)

// What the compute module needs beyond the /v1 wire types, through the
// same lookups and scope rules (written by the nova-rest part; one home:
// each calls the rule the matching Ops method calls).

// KeyPairRecord is user's keypair name ("": the caller's) as replicated,
// with its indexes: Nova's keypair show carries an integer id, for which
// the record's create index stands.
func (o *Ops) KeyPairRecord(ctx context.Context, user, name string) (fsm.KeyPair, error) {
	user, err := keyPairUser(ctx, user)
	if err != nil {
		return fsm.KeyPair{}, err
	}
	return o.s.state.KeyPair(user, name)
}
