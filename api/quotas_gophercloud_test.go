package api

import (
	"encoding/json"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
)

// bodyOf is a body as gophercloud's result types hold it.
func bodyOf(t *testing.T, raw []byte) any {
	t.Helper()
	var body any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return body
}

// gophercloud's Nova types read our quota sets, limits and server groups:
// the names of the quota, limit and owner fields are Nova's. (A native
// server is not Nova's shape: its addresses are a list.)
func TestTenancyShapesGophercloud(t *testing.T) {
	w := newTenants(t)
	_, raw := w.as(t, reader, "GET", "/v1/quota-sets/"+w.alpha.project, "")
	var qr quotasets.GetResult
	qr.Body = bodyOf(t, raw)
	q, err := qr.Extract()
	if err != nil || q.ID != w.alpha.project || q.Instances != 10 || q.Cores != 20 || q.RAM != 51200 ||
		q.ServerGroups != 10 || q.ServerGroupMembers != 10 || q.KeyPairs != 100 {
		t.Errorf("quota set = %+v, %v", q, err)
	}
	_, raw = w.as(t, reader, "GET", "/v1/limits", "")
	l, err := limits.GetResult{Result: gophercloud.Result{Body: bodyOf(t, raw)}}.Extract()
	if a := l.Absolute; err != nil || a.MaxTotalInstances != 10 || a.MaxTotalRAMSize != 51200 || a.TotalInstancesUsed != 1 ||
		a.TotalCoresUsed != 1 || a.TotalRAMUsed != 512 || a.TotalServerGroupsUsed != 1 || a.MaxTotalKeypairs != 100 {
		t.Errorf("limits = %+v, %v", l, err)
	}
	_, raw = w.as(t, reader, "GET", "/v1/server-groups/"+w.alpha.group, "")
	var gr servergroups.GetResult
	gr.Body = bodyOf(t, raw)
	g, err := gr.Extract()
	if err != nil || g.ProjectID != w.alpha.project || g.UserID != w.alpha.user {
		t.Errorf("server group owner = %q/%q, %v", g.ProjectID, g.UserID, err)
	}
}
