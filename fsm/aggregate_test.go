package fsm_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// createAggregate makes an aggregate and returns its ID.
func (w *world) createAggregate(uuid, name, zone string) uint64 {
	w.t.Helper()
	w.must(&fsm.CreateAggregate{UUID: uuid, Name: name, Zone: zone, Time: t0})
	for _, a := range w.f.Aggregates() {
		if a.UUID == uuid {
			return a.ID
		}
	}
	w.t.Fatalf("aggregate %s not made", uuid)
	return 0
}

// The aggregates' zone is the zone of their hosts on every read (the
// scheduler's view too) and leaves the node's inventory alone; the rest
// of the metadata, names and hosts are kept as given.
func TestAggregates(t *testing.T) {
	w := newWorld(t, testCIDR)
	plain := w.createAggregate("u1", "plain", "")
	zoned := w.createAggregate("u2", "zoned", "az1")
	if plain != 1 || zoned != 2 {
		t.Errorf("IDs %d, %d, want 1, 2", plain, zoned)
	}
	// Creates in one batch share an index, not an ID.
	b := &fsm.Batch{Entries: [][]byte{encode(t, &fsm.CreateAggregate{UUID: "b1", Name: "b1", Time: t0}),
		encode(t, &fsm.CreateAggregate{UUID: "b2", Name: "b2", Time: t0})}}
	if res := w.f.ApplyEntry(w.next, encode(t, b)); fmt.Sprint(res) != "{[<nil> <nil>]}" {
		t.Fatalf("batch: %v", res)
	}
	w.next++
	if got := w.f.Aggregates(); len(got) != 4 || got[2].UUID != "b1" || got[3].UUID != "b2" || got[3].ID != 4 {
		t.Errorf("batched creates: %+v", got)
	}
	w.must(&fsm.DeleteAggregate{ID: 3}, &fsm.DeleteAggregate{ID: 4})
	if a, err := w.f.Aggregate(zoned); err != nil || a.Zone() != "az1" || a.UUID != "u2" || a.ID != zoned ||
		len(a.Hosts) != 0 || a.Metadata == nil || !a.Updated.IsZero() {
		t.Fatalf("zoned: %+v %v", a, err)
	}
	w.must(&fsm.AddAggregateHost{ID: zoned, Host: "h1", Time: t0}, &fsm.AddAggregateHost{ID: plain, Host: "h1", Time: t0},
		&fsm.AddAggregateHost{ID: plain, Host: "h2", Time: t0})
	zoneOf := func(name string) string {
		h, err := w.f.Host(name)
		if err != nil {
			t.Fatal(err)
		}
		return h.InZone()
	}
	if zoneOf("h1") != "az1" || zoneOf("h2") != "nova" {
		t.Errorf("zones: h1 %q, h2 %q", zoneOf("h1"), zoneOf("h2"))
	}
	if h, _ := w.f.Host("h1"); h.Zone != "nova" {
		t.Errorf("the node's own zone changed: %q", h.Zone)
	}
	for _, h := range w.f.SchedulingView(0).Hosts {
		if h.Name == "h1" && h.InZone() != "az1" {
			t.Errorf("the scheduler sees h1 in %q", h.InZone())
		}
	}

	// Renaming the zone moves the hosts; metadata keys set and removed.
	az2, gpu := "az2", "yes"
	w.must(&fsm.UpdateAggregate{ID: zoned, Name: ptr("zoned2"), Metadata: map[string]*string{fsm.AggregateZoneKey: &az2, "gpu": &gpu}, Time: t0})
	w.must(&fsm.UpdateAggregate{ID: zoned, Metadata: map[string]*string{"gpu": nil, "absent": nil}, SetMetadata: true, Time: t0})
	if a, _ := w.f.Aggregate(zoned); a.Name != "zoned2" || len(a.Metadata) != 1 || a.Zone() != "az2" || !a.Updated.Equal(t0) {
		t.Errorf("after updates: %+v", a)
	}
	if zoneOf("h1") != "az2" {
		t.Errorf("h1 in %q after the zone's rename", zoneOf("h1"))
	}
	w.must(&fsm.RemoveAggregateHost{ID: zoned, Host: "h1", Time: t0})
	if zoneOf("h1") != "nova" {
		t.Errorf("h1 in %q after leaving", zoneOf("h1"))
	}
	w.must(&fsm.DeleteAggregate{ID: zoned})
	if got := w.f.Aggregates(); len(got) != 1 || got[0].ID != plain || strings.Join(got[0].Hosts, ",") != "h1,h2" {
		t.Errorf("aggregates: %+v", got)
	}
}

// Every refusal is Nova's, and changes nothing.
func TestAggregateRefusals(t *testing.T) {
	w := newWorld(t, testCIDR)
	a1 := w.createAggregate("u1", "a1", "az1")
	a2 := w.createAggregate("u2", "a2", "az2")
	a3 := w.createAggregate("u3", "a3", "")
	w.must(&fsm.AddAggregateHost{ID: a1, Host: "h1", Time: t0}, &fsm.AddAggregateHost{ID: a3, Host: "h1", Time: t0},
		&fsm.AddAggregateHost{ID: a3, Host: "h2", Time: t0})
	// A server on h2 (no zone from aggregates) and on h1 (az1).
	w.must(createCmd("s1", "s2"))
	w.place("s1", "h2")
	w.place("s2", "h1")

	empty, az3, long := "", "az3", strings.Repeat("x", fsm.MaxAggregateText+1)
	for _, c := range []struct {
		name    string
		cmd     fsm.Command
		kind    error
		message string
	}{
		{"create without UUID", &fsm.CreateAggregate{Name: "x", Time: t0}, fsm.ErrInvalid, ""},
		{"create without name", &fsm.CreateAggregate{UUID: "u9", Time: t0}, fsm.ErrInvalid, ""},
		{"create with a long name", &fsm.CreateAggregate{UUID: "u9", Name: long, Time: t0}, fsm.ErrInvalid, ""},
		{"create with a long zone", &fsm.CreateAggregate{UUID: "u9", Name: "x", Zone: long, Time: t0}, fsm.ErrInvalid, ""},
		{"create a UUID taken", &fsm.CreateAggregate{UUID: "u1", Name: "x", Time: t0}, fsm.ErrConflict, ""},
		{"create a name taken", &fsm.CreateAggregate{UUID: "u9", Name: "a1", Time: t0}, fsm.ErrConflict, "Aggregate a1 already exists."},
		{"update unknown", &fsm.UpdateAggregate{ID: 999, Name: ptr("x"), Time: t0}, fsm.ErrNotFound, "Aggregate 999 could not be found."},
		{"rename to a name taken", &fsm.UpdateAggregate{ID: a3, Name: ptr("a1"), Time: t0}, fsm.ErrConflict, "Aggregate a1 already exists."},
		{"rename to empty", &fsm.UpdateAggregate{ID: a3, Name: &empty, Time: t0}, fsm.ErrInvalid, ""},
		{"empty metadata key", &fsm.UpdateAggregate{ID: a3, Metadata: map[string]*string{"": &az3}, Time: t0}, fsm.ErrInvalid, ""},
		{"long metadata value", &fsm.UpdateAggregate{ID: a3, Metadata: map[string]*string{"k": &long}, Time: t0}, fsm.ErrInvalid, ""},
		{"empty zone", &fsm.UpdateAggregate{ID: a1, Metadata: map[string]*string{fsm.AggregateZoneKey: &empty}, Time: t0}, fsm.ErrInvalid,
			"Cannot update aggregate " + itoa(a1) + ". Reason: Aggregate a1 does not support empty named availability zone."},
		{"null zone", &fsm.UpdateAggregate{ID: a1, Metadata: map[string]*string{fsm.AggregateZoneKey: nil}, SetMetadata: true, Time: t0}, fsm.ErrInvalid,
			"Cannot update metadata of aggregate " + itoa(a1) + ". Reason: Aggregate a1 does not support empty named availability zone."},
		{"zone conflicting with a host's", &fsm.UpdateAggregate{ID: a3, Metadata: map[string]*string{fsm.AggregateZoneKey: &az3}, Time: t0}, fsm.ErrInvalid,
			"Cannot update aggregate " + itoa(a3) + ". Reason: One or more hosts already in availability zone(s) ['az1']."},
		{"zone change under servers", &fsm.UpdateAggregate{ID: a1, Metadata: map[string]*string{fsm.AggregateZoneKey: &az3}, SetMetadata: true, Time: t0}, fsm.ErrInvalid,
			"Cannot update metadata of aggregate " + itoa(a1) + ". Reason: One or more hosts contain instances in this zone."},
		{"delete unknown", &fsm.DeleteAggregate{ID: 999}, fsm.ErrNotFound, "Aggregate 999 could not be found."},
		{"delete with hosts", &fsm.DeleteAggregate{ID: a1}, fsm.ErrInvalid,
			"Cannot remove host from aggregate " + itoa(a1) + ". Reason: Host aggregate is not empty."},
		{"add an unknown host", &fsm.AddAggregateHost{ID: a1, Host: "h9", Time: t0}, fsm.ErrNotFound, "Compute host h9 could not be found."},
		{"add to an unknown aggregate", &fsm.AddAggregateHost{ID: 999, Host: "h3", Time: t0}, fsm.ErrNotFound, "Aggregate 999 could not be found."},
		{"add a host twice", &fsm.AddAggregateHost{ID: a3, Host: "h1", Time: t0}, fsm.ErrConflict,
			"Aggregate " + itoa(a3) + " already has host h1."},
		{"add a host of another zone", &fsm.AddAggregateHost{ID: a2, Host: "h1", Time: t0}, fsm.ErrConflict,
			"Cannot add host to aggregate " + itoa(a2) + ". Reason: One or more hosts already in availability zone(s) ['az1']."},
		{"add a host whose servers would move", &fsm.AddAggregateHost{ID: a2, Host: "h2", Time: t0}, fsm.ErrConflict,
			"Cannot add host to aggregate " + itoa(a2) + ". Reason: The host cannot be added to the aggregate as the availability zone of the host would change from 'None' to 'az2' but the host already has 1 instance(s)."},
		{"remove an unknown host", &fsm.RemoveAggregateHost{ID: a1, Host: "h9", Time: t0}, fsm.ErrNotFound, "Cannot remove host h9 in aggregate " + itoa(a1)},
		{"remove a host not in it", &fsm.RemoveAggregateHost{ID: a1, Host: "h3", Time: t0}, fsm.ErrNotFound, "Cannot remove host h3 in aggregate " + itoa(a1)},
		{"remove from an unknown aggregate", &fsm.RemoveAggregateHost{ID: 999, Host: "h1", Time: t0}, fsm.ErrNotFound, "Cannot remove host h1 in aggregate 999"},
		{"remove a host whose servers would move", &fsm.RemoveAggregateHost{ID: a1, Host: "h1", Time: t0}, fsm.ErrConflict,
			"Cannot remove host from aggregate " + itoa(a1) + ". Reason: The host cannot be removed from the aggregate as the availability zone of the host would change from 'az1' to 'None' but the host already has 1 instance(s)."},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := w.refuse(c.cmd, c.kind)
			if c.message != "" && !strings.Contains(err.Error(), c.message) {
				t.Errorf("err = %v, want it to say %q", err, c.message)
			}
		})
	}
	// The same zone again is no change: servers do not stop it.
	az1 := "az1"
	w.must(&fsm.UpdateAggregate{ID: a1, Metadata: map[string]*string{fsm.AggregateZoneKey: &az1}, Time: t0})
}

func itoa(id uint64) string { return strconv.FormatUint(id, 10) }
