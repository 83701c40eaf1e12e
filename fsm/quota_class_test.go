package fsm_test

import (
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// The default quota class replaces the defaults of every project without
// its own limits; other classes are stored and shown over the defaults
// but change no project's quota; refusals change nothing.
func TestSetQuotaClass(t *testing.T) {
	w := newWorld(t, testCIDR)
	def := fsm.DefaultQuota()
	if got := w.f.QuotaClass(fsm.DefaultQuotaClass); got != def {
		t.Fatalf("default class before any set = %+v, want DefaultQuota", got)
	}
	w.must(setQuota("p1", fsm.QuotaOverride{Cores: ptr(4)}))
	w.must(&fsm.SetQuotaClass{Name: fsm.DefaultQuotaClass, Quota: fsm.QuotaOverride{Cores: ptr(40), Instances: ptr(-1)}})

	want := def
	want.Cores, want.Instances = 40, fsm.Unlimited
	if got := w.f.QuotaClass(fsm.DefaultQuotaClass); got != want {
		t.Errorf("default class = %+v, want %+v", got, want)
	}
	if got := w.f.Quota("p2"); got != want {
		t.Errorf("a project without limits = %+v, want the default class %+v", got, want)
	}
	p1 := want
	p1.Cores = 4
	if got := w.f.Quota("p1"); got != p1 {
		t.Errorf("a project with its own cores = %+v, want %+v", got, p1)
	}

	w.must(&fsm.SetQuotaClass{Name: "gold", Quota: fsm.QuotaOverride{RAM: ptr(1)}})
	gold := want
	gold.RAM = 1
	if got := w.f.QuotaClass("gold"); got != gold {
		t.Errorf("class gold = %+v, want %+v", got, gold)
	}
	if got := w.f.QuotaClass("never-set"); got != want {
		t.Errorf("a class never set = %+v, want the defaults %+v", got, want)
	}
	if got := w.f.Quota("p2"); got != want {
		t.Errorf("another class changed a project: %+v", got)
	}
	w.noop(&fsm.SetQuotaClass{Name: "silver"}) // nothing given, nothing stored

	for _, tc := range []struct {
		name string
		cmd  *fsm.SetQuotaClass
	}{
		{"no name", &fsm.SetQuotaClass{Quota: fsm.QuotaOverride{Cores: ptr(1)}}},
		{"name too long", &fsm.SetQuotaClass{Name: strings.Repeat("é", fsm.MaxQuotaClassName+1), Quota: fsm.QuotaOverride{Cores: ptr(1)}}},
		{"below -1", &fsm.SetQuotaClass{Name: fsm.DefaultQuotaClass, Quota: fsm.QuotaOverride{Instances: ptr(-2)}}},
		{"one of several bad", &fsm.SetQuotaClass{Name: "gold", Quota: fsm.QuotaOverride{Cores: ptr(8), KeyPairs: ptr(-5)}}},
	} {
		t.Run(tc.name, func(t *testing.T) { w.refuse(tc.cmd, fsm.ErrInvalid) })
	}
	w.must(&fsm.SetQuotaClass{Name: strings.Repeat("é", fsm.MaxQuotaClassName), Quota: fsm.QuotaOverride{Cores: ptr(1)}})
}
