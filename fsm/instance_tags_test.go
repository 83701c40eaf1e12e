package fsm_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestInstanceTags(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.activeOwned("i-1", "p1")

	w.must(&fsm.AddInstanceTag{ID: "i-1", Tag: "web", Time: t2}, &fsm.AddInstanceTag{ID: "i-1", Tag: "db", Time: t2})
	w.noop(&fsm.AddInstanceTag{ID: "i-1", Tag: "web", Time: t2})
	if got := w.inst("i-1").Tags; !reflect.DeepEqual(got, []string{"db", "web"}) {
		t.Errorf("tags = %v, want [db web] (sorted)", got)
	}
	w.refuse(&fsm.DeleteInstanceTag{ID: "i-1", Tag: "nope", Time: t2}, fsm.ErrNotFound)
	w.must(&fsm.DeleteInstanceTag{ID: "i-1", Tag: "db", Time: t2})
	w.must(&fsm.SetInstanceTags{ID: "i-1", Tags: []string{"b", "a", "b"}, Time: t2})
	if got := w.inst("i-1").Tags; !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("tags = %v, want [a b]", got)
	}
	w.must(&fsm.DeleteInstanceTag{ID: "i-1", Time: t2})
	if got := w.inst("i-1").Tags; got != nil {
		t.Errorf("tags after delete all = %v", got)
	}

	for _, bad := range []string{"", "a,b", "a/b", strings.Repeat("t", 61), "x\x01"} {
		w.refuse(&fsm.AddInstanceTag{ID: "i-1", Tag: bad, Time: t2}, fsm.ErrInvalid)
	}
	many := make([]string, fsm.MaxInstanceTags+1)
	for k := range many {
		many[k] = fmt.Sprint("t", k)
	}
	w.refuse(&fsm.SetInstanceTags{ID: "i-1", Tags: many, Time: t2}, fsm.ErrInvalid)
	w.must(&fsm.SetInstanceTags{ID: "i-1", Tags: many[:fsm.MaxInstanceTags], Time: t2})
	w.refuse(&fsm.AddInstanceTag{ID: "i-1", Tag: "one-more", Time: t2}, fsm.ErrInvalid)
	w.refuse(&fsm.AddInstanceTag{ID: "i-2", Tag: "web", Time: t2}, fsm.ErrNotFound)

	// A building server takes no tags (Nova's 409).
	w.must(ownedCreate("p1", "1", "i-3"))
	w.refuse(&fsm.AddInstanceTag{ID: "i-3", Tag: "web", Time: t2}, fsm.ErrConflict)
}

func TestSanitizeHostname(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"Web Server_1.example", "web-server-1-example"},
		{"-My!Host-", "myhost"},
		{"日本", "server-x"},
		{"Café", "café"},
		{strings.Repeat("a", 70), strings.Repeat("a", 63)},
	} {
		if got := fsm.SanitizeHostname(tc.name, "server-x"); got != tc.want {
			t.Errorf("SanitizeHostname(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
