package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/fsm/fsmtest"
)

// tenants is a cluster with two projects, alpha and beta, each owning a
// running server, a server group, a private image with data, a floating IP
// of the external network "public" and a security group with a rule, all
// made through fsm commands as their member would; every caller has a
// keypair named policyKeyPair.
type tenants struct {
	c   *fakeCluster
	srv *Server
	ts  *httptest.Server
	// token of each caller: alpha's reader and member, beta's member, the
	// bootstrap admin, a bad one and none; user: the user ID of each.
	token, user map[string]string
	// alpha and beta: what each project owns.
	alpha, beta owned
}

// owned is what one project owns: IDs by object kind (fip: the floating
// IP's ID, fipAddress its address; secgroup and rule: a security group and
// its one rule).
type owned struct {
	project, user, server, group, image string
	fip, fipAddress, secgroup, rule     string
}

// publicNetwork is the ID of the external network newTenants makes.
const publicNetwork = "7e000000-0000-4000-8000-000000000001"

// Callers of the policy tests.
const (
	noToken  = "no token"
	badToken = "bad token"
	reader   = "reader"
	member   = "member"
	admin    = "admin"
	betaUser = "beta member"
)

// sumOf is a fake image checksum: 64 hex digits derived from n.
func sumOf(n int) string { return strings.Repeat(fmt.Sprintf("%x", n%16), 64) }

func newTenants(t *testing.T) *tenants {
	t.Helper()
	c := newFakeCluster(t)
	c.seedCompute(t)
	srv := New(Config{State: c.FSM, Cluster: c, NodeName: "node1", Images: stubImages{}, Auth: testAuth()})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	w := &tenants{c: c, srv: srv, ts: ts}
	c.MustApply(t, &fsm.CreateNetwork{ID: publicNetwork, Name: "public", External: true, CIDR: "10.66.0.0/24", Gateway: "10.66.0.1",
		AllocationPools: []fsm.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}, Time: time.Unix(300, 0).UTC()})
	r, m, b := c.addTenant(t, "alpha", fsm.RoleReader), c.addTenant(t, "alpha", fsm.RoleMember), c.addTenant(t, "beta", fsm.RoleMember)
	w.token = map[string]string{noToken: "", badToken: "shoal1.bogus.token", reader: r.Token, member: m.Token,
		betaUser: b.Token, admin: adminToken}
	w.user = map[string]string{noToken: m.UserID, badToken: m.UserID, reader: r.UserID, member: m.UserID, betaUser: b.UserID,
		admin: identitytest.AdminUserID}
	w.alpha = w.seedProject(t, 1, m.ProjectID, m.UserID)
	w.beta = w.seedProject(t, 2, b.ProjectID, b.UserID)
	now := time.Now().UTC()
	c.MustApply(t, &fsm.CreateJoinToken{ID: policyJoinToken, SecretHash: sumOf(7), CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		MaxUses: 1, CreatedBy: identitytest.AdminUserID})
	for k, caller := range []string{reader, member, betaUser, admin} {
		c.MustApply(t, &fsm.CreateKeyPair{KeyPair: testKeyPair(t, w.user[caller], policyKeyPair, byte(k))})
	}
	return w
}

// policyKeyPair is the name of the keypair newTenants gives each caller.
const policyKeyPair = "key"

// policyJoinToken is the ID of the join token newTenants makes.
const policyJoinToken = "0123456789abcdef0123456789abcdef"

// seedProject gives a project a private image with data, a server group and
// a server built from the image, running on node1.
func (w *tenants) seedProject(t *testing.T, n int, project, user string) owned {
	t.Helper()
	now := time.Unix(300, 0).UTC()
	o := owned{project: project, user: user, server: fmt.Sprintf("5e000000-0000-4000-8000-%012d", n),
		group: fmt.Sprintf("9e000000-0000-4000-8000-%012d", n), image: fmt.Sprintf("1e000000-0000-4000-8000-%012d", n),
		fip: fmt.Sprintf("f1000000-0000-4000-8000-%012d", n), secgroup: fmt.Sprintf("5c000000-0000-4000-8000-%012d", n),
		rule: fmt.Sprintf("5d000000-0000-4000-8000-%012d", n)}
	port := 22
	w.c.MustApply(t,
		&fsm.CreateImage{Image: fsm.Image{ID: o.image, Name: fmt.Sprintf("img-%d", n), DiskFormat: "qcow2", ContainerFormat: "bare",
			Status: fsm.ImageQueued, ProjectID: project, UserID: user, Visibility: fsm.ImagePrivate, Created: now, Updated: now}},
		&fsm.ImageUploaded{ID: o.image, Node: "node1", Size: 1 << 20, Checksum: sumOf(n), DiskFormat: "qcow2", Time: now},
		&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: o.group, Name: fmt.Sprintf("group-%d", n), Policy: fsm.PolicySoftAffinity,
			ProjectID: project, UserID: user, Created: now}},
		&fsm.CreateInstances{RequestID: "req-seed", Time: now, ProjectID: project, UserID: user, Instances: []fsm.NewInstance{
			{ID: o.server, Name: fmt.Sprintf("vm-%d", n), FlavorID: "1", ImageID: o.image}}},
		&fsm.AllocateFloatingIP{ID: o.fip, NetworkID: publicNetwork, ProjectID: project, UserID: user, Time: now},
		&fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: o.secgroup, Name: fmt.Sprintf("web-%d", n), ProjectID: project,
			UserID: user, Created: now, Rules: []fsm.SecurityGroupRule{{ID: o.rule, Direction: fsm.DirectionIngress,
				Protocol: fsm.ProtocolTCP, PortMin: &port, PortMax: &port}}}},
	)
	o.fipAddress = fsmtest.MustRead(t, "FloatingIP", w.c.FSM.FloatingIP, o.fip).IP
	w.c.place(t, o.server, "node1", "")
	return o
}

// as sends a request as caller, with more headers (name, value) if given.
func (w *tenants) as(t *testing.T, caller, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return call(t, w.ts, method, path, body, append([]string{HeaderAuthToken, w.token[caller]}, header...)...)
}

// stubImages holds every image's data (a few bytes) and stores nothing.
type stubImages struct{}

func (stubImages) Put(context.Context, io.Reader, string, int64) (StoredImage, error) {
	return StoredImage{}, fmt.Errorf("%w: the stub stores nothing", fsm.ErrInvalid)
}
func (stubImages) Has(string) bool { return true }
func (stubImages) Open(string) (io.ReadCloser, int64, error) {
	return io.NopCloser(strings.NewReader("data")), 4, nil
}
