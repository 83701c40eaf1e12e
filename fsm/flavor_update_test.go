package fsm_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// privateFlavor is a private flavor with Nova's extra fields set.
func privateFlavor(id string, access ...string) fsm.Flavor {
	return fsm.Flavor{ID: id, Name: "p-" + id, VCPUs: 1, RAM: 512, Disk: 1, Swap: 256, Ephemeral: 2, RxtxFactor: 2.5,
		Description: "for the few", Private: true, Access: access, ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"},
		Created: t0}
}

func (w *world) flavor(id string) fsm.Flavor {
	w.t.Helper()
	f, err := w.f.Flavor(id)
	if err != nil {
		w.t.Fatalf("Flavor(%s): %v", id, err)
	}
	return f
}

func TestFlavorFields(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateFlavor{Flavor: privateFlavor("fp", "p2", "p1", "p2")})
	got := w.flavor("fp")
	want := privateFlavor("fp", "p1", "p2") // access sorted, once each
	want.CreateIndex, want.ModifyIndex = got.CreateIndex, got.CreateIndex
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Flavor(fp) =\n%+v\nwant\n%+v", got, want)
	}
	if got.IsPublic() || got.EffectiveRxtxFactor() != 2.5 {
		t.Errorf("IsPublic %v rxtx %v", got.IsPublic(), got.EffectiveRxtxFactor())
	}
	// Flavors made before these fields are public with rxtx 1.0.
	if tiny := w.flavor("1"); !tiny.IsPublic() || tiny.EffectiveRxtxFactor() != 1 || tiny.Access != nil || tiny.ExtraSpecs != nil {
		t.Errorf("m1.tiny = %+v", tiny)
	}
	// Readers get copies.
	got.Access[0], got.ExtraSpecs["hw:cpu_policy"] = "zzz", "shared"
	if again := w.flavor("fp"); again.Access[0] != "p1" || again.ExtraSpecs["hw:cpu_policy"] != "dedicated" {
		t.Errorf("a reader changed the state: %+v", again)
	}

	for _, tc := range []struct {
		name   string
		change func(*fsm.Flavor)
	}{
		{"negative swap", func(f *fsm.Flavor) { f.Swap = -1 }},
		{"negative ephemeral", func(f *fsm.Flavor) { f.Ephemeral = -1 }},
		{"negative rxtx", func(f *fsm.Flavor) { f.RxtxFactor = -0.5 }},
		{"access on a public flavor", func(f *fsm.Flavor) { f.Private = false }},
		{"empty project in access", func(f *fsm.Flavor) { f.Access = []string{""} }},
		{"long description", func(f *fsm.Flavor) { f.Description = strings.Repeat("d", 65536) }},
		{"empty extra spec key", func(f *fsm.Flavor) { f.ExtraSpecs = map[string]string{"": "x"} }},
		{"long extra spec value", func(f *fsm.Flavor) { f.ExtraSpecs = map[string]string{"k": strings.Repeat("v", 256)} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			f := privateFlavor("fx", "p1")
			tc.change(&f)
			w.refuse(&fsm.CreateFlavor{Flavor: f}, fsm.ErrInvalid)
		})
	}
}

func TestFlavorExtraSpecsAndDescription(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.SetFlavorExtraSpecs{ID: "1", Specs: map[string]string{"hw:mem_page_size": "large", "quota:vif": "1"}})
	index := w.next
	w.must(&fsm.SetFlavorExtraSpecs{ID: "1", Specs: map[string]string{"quota:vif": "2", "aggregate_instance_extra_specs:ssd": "true"}})
	f := w.flavor("1")
	want := map[string]string{"hw:mem_page_size": "large", "quota:vif": "2", "aggregate_instance_extra_specs:ssd": "true"}
	if !maps.Equal(f.ExtraSpecs, want) || f.ModifyIndex != index {
		t.Errorf("extra specs %v at %d, want %v at %d", f.ExtraSpecs, f.ModifyIndex, want, index)
	}
	for _, k := range []string{"hw:mem_page_size", "quota:vif", "aggregate_instance_extra_specs:ssd"} {
		w.must(&fsm.DeleteFlavorExtraSpec{ID: "1", Key: k})
	}
	if f := w.flavor("1"); f.ExtraSpecs != nil {
		t.Errorf("all deleted: %#v, want nil (as never set)", f.ExtraSpecs)
	}
	err := w.refuse(&fsm.DeleteFlavorExtraSpec{ID: "1", Key: "quota:vif"}, fsm.ErrNotFound)
	if !strings.Contains(err.Error(), "Flavor 1 has no extra specs with key quota:vif.") {
		t.Errorf("missing key: %v, want Nova's message", err)
	}
	w.refuse(&fsm.DeleteFlavorExtraSpec{ID: "nope", Key: "k"}, fsm.ErrNotFound)
	w.refuse(&fsm.SetFlavorExtraSpecs{ID: "nope", Specs: map[string]string{"k": "v"}}, fsm.ErrNotFound)
	w.refuse(&fsm.SetFlavorExtraSpecs{ID: "1"}, fsm.ErrInvalid)
	w.refuse(&fsm.SetFlavorExtraSpecs{ID: "1", Specs: map[string]string{"k": "a\nb"}}, fsm.ErrInvalid)

	w.must(&fsm.UpdateFlavor{ID: "1", Description: ptr("the smallest")})
	if f := w.flavor("1"); f.Description != "the smallest" {
		t.Errorf("description %q", f.Description)
	}
	w.must(&fsm.UpdateFlavor{ID: "1", Description: ptr("")})
	w.refuse(&fsm.UpdateFlavor{ID: "1"}, fsm.ErrInvalid)
	w.refuse(&fsm.UpdateFlavor{ID: "nope", Description: ptr("x")}, fsm.ErrNotFound)
	w.refuse(&fsm.UpdateFlavor{ID: "1", Description: ptr("a\x00")}, fsm.ErrInvalid)
}

// Private flavors are seen and used only by the projects on their access
// list (and admins); Nova's errors for the list's changes.
func TestFlavorAccess(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(&fsm.CreateFlavor{Flavor: privateFlavor("fp")})
	w.must(&fsm.AddFlavorAccess{ID: "fp", ProjectID: "p2"}, &fsm.AddFlavorAccess{ID: "fp", ProjectID: "p1"})
	if f := w.flavor("fp"); !slices.Equal(f.Access, []string{"p1", "p2"}) {
		t.Errorf("access %v", f.Access)
	}
	for _, tc := range []struct {
		c    fsm.Command
		want error
		msg  string
	}{
		{&fsm.AddFlavorAccess{ID: "fp", ProjectID: "p1"}, fsm.ErrConflict, "Flavor access already exists for flavor fp and project p1 combination."},
		{&fsm.AddFlavorAccess{ID: "1", ProjectID: "p1"}, fsm.ErrConflict, "Can not add access to a public flavor."},
		{&fsm.AddFlavorAccess{ID: "nope", ProjectID: "p1"}, fsm.ErrNotFound, ""},
		{&fsm.AddFlavorAccess{ID: "fp", ProjectID: ""}, fsm.ErrInvalid, ""},
		{&fsm.RemoveFlavorAccess{ID: "fp", ProjectID: "p3"}, fsm.ErrNotFound, "Flavor access not found for fp / p3 combination."},
		{&fsm.RemoveFlavorAccess{ID: "1", ProjectID: "p1"}, fsm.ErrNotFound, ""},
	} {
		err := w.refuse(tc.c, tc.want)
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %q", tc.c.Type(), err, tc.msg)
		}
	}

	names := func(fl []fsm.Flavor) (out []string) {
		for _, f := range fl {
			out = append(out, f.ID)
		}
		return out
	}
	if got := names(w.f.FlavorsVisibleTo("p1")); !slices.Equal(got, []string{"1", "2", "3", "4", "5", "fp"}) {
		t.Errorf("p1 sees %v", got)
	}
	if got := names(w.f.FlavorsVisibleTo("p3")); slices.Contains(got, "fp") {
		t.Errorf("p3 sees %v", got)
	}

	// A server of a project without access cannot have it, unless an admin asks.
	c := ownedCreate("p3", "fp", "i-1")
	w.refuse(c, fsm.ErrNotFound)
	c.Admin = true
	w.must(c)
	w.must(ownedCreate("p1", "fp", "i-2"))

	w.must(&fsm.RemoveFlavorAccess{ID: "fp", ProjectID: "p1"}, &fsm.RemoveFlavorAccess{ID: "fp", ProjectID: "p2"})
	if f := w.flavor("fp"); f.Access != nil {
		t.Errorf("emptied access: %#v, want nil", f.Access)
	}
	w.refuse(ownedCreate("p1", "fp", "i-3"), fsm.ErrNotFound)
	noProject := createCmd("i-4")
	noProject.Instances[0].FlavorID = "fp"
	w.must(noProject) // a create without a project (before identity) is not checked
}
