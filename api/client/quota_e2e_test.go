package client

import (
	"context"
	"errors"
	"testing"

	"github.com/shoal-project/shoal/api/identity/identitytest"
	"github.com/shoal-project/shoal/fsm"
)

// TestQuotasAgainstServer: quota show/set/defaults and limits against a
// real in-process API, in Nova's shapes.
func TestQuotasAgainstServer(t *testing.T) {
	_, cl := newTestClient(t)
	ctx := context.Background()
	p := identitytest.AdminProjectID

	q, err := cl.Quota(ctx, p)
	if err != nil || q.ID != p || q.QuotaSet != fsm.DefaultQuota() {
		t.Fatalf("Quota = %+v, %v", q, err)
	}
	two := 2
	if q, err = cl.SetQuota(ctx, p, QuotaUpdate{Instances: &two}); err != nil || q.Instances != 2 || q.Cores != 20 {
		t.Fatalf("SetQuota = %+v, %v", q, err)
	}
	if d, err := cl.DefaultQuota(ctx, p); err != nil || d.QuotaSet != fsm.DefaultQuota() {
		t.Fatalf("DefaultQuota = %+v, %v", d, err)
	}
	for _, id := range []string{"", p} {
		l, err := cl.Limits(ctx, id)
		if err != nil || l.Absolute.MaxTotalInstances != 2 || l.Absolute.MaxTotalCores != 20 || l.Absolute.TotalInstancesUsed != 0 {
			t.Fatalf("Limits(%q) = %+v, %v", id, l, err)
		}
	}
	neg := -5
	if _, err := cl.SetQuota(ctx, p, QuotaUpdate{Cores: &neg}); !errors.Is(err, fsm.ErrInvalid) {
		t.Errorf("SetQuota -5: %v", err)
	}
}
