package fsm_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func updateGroup(id, project string, name, description *string) *fsm.UpdateSecurityGroup {
	return &fsm.UpdateSecurityGroup{ID: id, ProjectID: project, Name: name, Description: description, Time: t2}
}

// A group is renamed or described anew; its rules, project and creation
// stay. The default group's description may change before it is stored:
// the update stores it first, as its first use would.
func TestUpdateSecurityGroup(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web", rule("r1", "", fsm.DirectionIngress, fsm.ProtocolTCP, ptr(80), ptr(80))))
	before := w.secGroup("sg-web")

	index := w.next
	w.must(updateGroup("sg-web", "p1", ptr("www"), ptr("HTTP and HTTPS")))
	want := before
	want.Name, want.Description, want.ModifyIndex = "www", "HTTP and HTTPS", index
	if got := w.secGroup("sg-web"); !reflect.DeepEqual(got, want) {
		t.Errorf("after the update =\n%+v\nwant\n%+v", got, want)
	}
	index = w.next
	w.must(updateGroup("sg-web", "p1", nil, ptr(""))) // the name stays, the description goes
	if got := w.secGroup("sg-web"); got.Name != "www" || got.Description != "" || got.ModifyIndex != index {
		t.Errorf("after clearing the description = %+v", got)
	}
	// Nothing to change is allowed, and so is a group's own name.
	index = w.next
	w.must(updateGroup("sg-web", "p1", nil, nil), updateGroup("sg-web", "p1", ptr("www"), nil))
	if got := w.secGroup("sg-web"); got.Name != "www" || got.ModifyIndex != index+1 {
		t.Errorf("after the no-ops = %+v", got)
	}
	// The name "web" is free again, in p1 as in p2.
	w.must(secGroupCmd("sg-web-2", "p1", "web"))

	def := fsm.DefaultSecurityGroupID("p1")
	shown := w.secGroup(def) // not stored yet
	index = w.next
	w.must(updateGroup(def, "p1", ptr(fsm.DefaultSecurityGroupName), ptr("project p1's")))
	got := w.secGroup(def)
	want = shown
	want.Description, want.Created = "project p1's", t2
	if !reflect.DeepEqual(stripped(got), stripped(want)) || !got.Created.Equal(t2) ||
		got.CreateIndex != index || got.ModifyIndex != index {
		t.Errorf("the default group after its first update =\n%+v\nwant\n%+v", got, want)
	}
	if st := stateOf(t, w.f); st.SecurityGroups[def] == nil {
		t.Error("the default group was not stored")
	}
	index = w.next
	w.must(updateGroup(def, "", nil, ptr("stored"))) // stored: no project needed
	if got := w.secGroup(def); got.Description != "stored" || got.CreateIndex != index-1 || got.ModifyIndex != index {
		t.Errorf("the stored default group after an update = %+v", got)
	}
	checkDerived(t, w.f)
}

// Every refusal leaves the state as it was: a default group not stored
// stays unstored.
func TestUpdateSecurityGroupRefused(t *testing.T) {
	w := netWorld(t)
	w.must(secGroupCmd("sg-web", "p1", "web"), secGroupCmd("sg-db", "p1", "db"), secGroupCmd("sg-p2", "p2", "cache"))
	def1, def2 := fsm.DefaultSecurityGroupID("p1"), fsm.DefaultSecurityGroupID("p2")
	w.must(updateGroup(def2, "p2", nil, ptr("stored"))) // p2's is stored, p1's is not
	for _, tc := range []struct {
		name string
		c    *fsm.UpdateSecurityGroup
		want error
		text string
	}{
		{"unknown group", updateGroup("nope", "p1", nil, ptr("d")), fsm.ErrNotFound, ""},
		{"another project's default group, not stored", updateGroup(def1, "p2", nil, ptr("d")), fsm.ErrNotFound, ""},
		{"a default group not stored, without its project", updateGroup(def1, "", nil, ptr("d")), fsm.ErrNotFound, ""},
		{"renaming a default group not stored", updateGroup(def1, "p1", ptr("mine"), nil), fsm.ErrConflict, "keeps its name"},
		{"renaming a stored default group", updateGroup(def2, "p2", ptr("mine"), nil), fsm.ErrConflict, "keeps its name"},
		{"renaming a group default", updateGroup("sg-web", "p1", ptr(fsm.DefaultSecurityGroupName), nil), fsm.ErrConflict, "default security group"},
		{"a name the project has", updateGroup("sg-web", "p1", ptr("db"), nil), fsm.ErrConflict, `named "db"`},
		{"no name", updateGroup("sg-web", "p1", ptr(""), nil), fsm.ErrInvalid, ""},
		{"a control character in the name", updateGroup("sg-web", "p1", ptr("we\x00b"), nil), fsm.ErrInvalid, ""},
		{"long description", updateGroup("sg-web", "p1", nil, ptr(strings.Repeat("d", 256))), fsm.ErrInvalid, ""},
		{"long description of a default group not stored", updateGroup(def1, "p1", nil, ptr(strings.Repeat("d", 256))), fsm.ErrInvalid, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w.t = t
			if err := w.refuse(tc.c, tc.want); !containsText(err, tc.text) {
				t.Errorf("error %v, want it to say %q", err, tc.text)
			}
		})
	}
	// Names are per project: p2 may take p1's.
	w.t = t
	w.must(updateGroup("sg-p2", "p2", ptr("web"), nil))
}
