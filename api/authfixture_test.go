package api

import (
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
)

// adminToken is the bootstrap admin's: call sends it unless told otherwise.
var adminToken = identitytest.AdminToken

// testAuth is the Auth of every test server.
func testAuth() Auth { return Auth{Signer: identitytest.Signer} }

// addTenant creates project name (when absent) with user name-role holding
// role on it, and returns the user's token.
func (c *fakeCluster) addTenant(t *testing.T, name, role string) identitytest.Tenant {
	t.Helper()
	cmds, tenant := identitytest.TenantCommands(c.FSM, name, role)
	c.MustApply(t, cmds...)
	return tenant
}
