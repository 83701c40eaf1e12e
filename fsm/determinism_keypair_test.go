package fsm_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// keyPair is one keypair command drawn from g.keys alone, so that the other
// entries of a seed's log stay what they were. Users, names and projects
// come from small pools, so duplicates, unknown keypairs and the key_pairs
// quota (set by setQuota) all happen; one in eight is malformed.
func (g *logGen) keyPair(at time.Time) fsm.Command {
	r := g.keys
	user, name := fmt.Sprintf("u%d", r.IntN(3)), fmt.Sprintf("key-%d", r.IntN(6))
	if r.IntN(3) == 0 {
		return &fsm.DeleteKeyPair{UserID: user, Name: name}
	}
	k := fsm.KeyPair{Name: name, UserID: user, ProjectID: fmt.Sprintf("p%d", r.IntN(3)), PublicKey: sshKeyA,
		Fingerprint: fpA, Type: fsm.KeyPairTypeSSH, Created: at}
	switch r.IntN(16) {
	case 0:
		k.Name = "bad/name"
	case 1:
		k.Type = "x509"
	}
	return &fsm.CreateKeyPair{KeyPair: k}
}

// bootData gives a new server a key, user data and a config drive now and
// then, drawn from g.keys; some are malformed.
func (g *logGen) bootData(n *fsm.NewInstance) {
	r := g.keys
	if r.IntN(4) == 0 {
		n.KeyName, n.KeyData = fmt.Sprintf("key-%d", r.IntN(6)), sshKeyB
	}
	switch r.IntN(12) {
	case 0:
		n.UserData = script
	case 1:
		n.UserData = strings.Repeat("A", 5) // not base64: refused
	}
	n.ConfigDrive = r.IntN(5) == 0
}
