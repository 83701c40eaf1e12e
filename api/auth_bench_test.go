package api

import (
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// BenchmarkAuthenticate measures what every authenticated request pays on a
// node: the token parsed and its signature verified against the key in the
// replica, then validated and its principal read (user, project, live roles)
// from a real FSM. Run it with -cpu 1 for the figure of one core.
func BenchmarkAuthenticate(b *testing.B) {
	c := newFakeCluster(b)
	s := New(Config{State: c.FSM, Cluster: c, Auth: Auth{Signer: identitytest.Signer}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.principalFor(adminToken); err != nil {
			b.Fatal(err)
		}
	}
}
