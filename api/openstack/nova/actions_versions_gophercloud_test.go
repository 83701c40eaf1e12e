package nova_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/shoal-project/shoal/api/apitest"
)

// TestGophercloudInstanceActionsPaging: gophercloud at 2.62 pages the log
// (limit 1, marker by marker) and reads updated_at and hostId.
func TestGophercloudInstanceActionsPaging(t *testing.T) {
	e := newServersEnvUpTo(t)
	const id = "c5000000-0000-4000-8000-000000000001"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	for _, body := range []string{`{"lock":null}`, `{"unlock":null}`} {
		if status, raw := e.call(t, "POST", "/servers/"+id+"/action", body, e.alpha.Token); status != 202 {
			t.Fatalf("%s: %d %s", body, status, raw)
		}
	}
	ctx := context.Background()
	client := e.compute(t, false)
	client.Microversion = "2.62"
	// gophercloud's pager reads one page: follow the marker by hand.
	var names []string
	marker := ""
	for range 5 {
		pages, err := instanceactions.List(client, id, instanceactions.ListOpts{Limit: 1, Marker: marker}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		actions, err := instanceactions.ExtractInstanceActions(pages)
		if err != nil {
			t.Fatal(err)
		}
		if len(actions) == 0 {
			break
		}
		names = append(names, actions[0].Action)
		marker = actions[0].RequestID
	}
	if strings.Join(names, ",") != "unlock,lock,create" {
		t.Fatalf("paged %v", names)
	}
	detail, err := instanceactions.Get(ctx, client, id, "req-seed").Extract()
	if err != nil || detail.Events == nil || len(*detail.Events) != 1 || (*detail.Events)[0].HostID == nil ||
		*(*detail.Events)[0].HostID == "" || (*detail.Events)[0].Host != nil {
		t.Fatalf("show %+v %v", detail, err)
	}
}
