package lab

import (
	"strings"
	"testing"
	"time"
)

// round builds a sample: host → instance IDs with their MACs ("id=mac").
func round(at time.Time, hosts map[string][]string) Round {
	r := Round{Start: at, End: at.Add(10 * time.Millisecond), Hosts: map[string]HostSample{}}
	for name, doms := range hosts {
		s := HostSample{State: HostOn, Domains: map[string]Domain{}}
		for _, d := range doms {
			id, mac, _ := strings.Cut(d, "=")
			s.Domains[id] = Domain{ID: id, State: "running", MAC: mac}
		}
		r.Hosts[name] = s
	}
	return r
}

func TestCheckerRules(t *testing.T) {
	servers := []Server{
		{ID: "a", Addresses: []Address{{IP: "10.78.0.2", MAC: "fa:16:3e:00:00:0a"}}},
		{ID: "b", Addresses: []Address{{IP: "10.78.0.3", MAC: "fa:16:3e:00:00:0b"}}},
	}
	t0 := time.Now()
	for _, tc := range []struct {
		name  string
		hosts map[string][]string
		list  []Server // an extra API listing
		want  []string // violation kinds, in order
	}{
		{"each once", map[string][]string{"h1": {"a=fa:16:3e:00:00:0a"}, "h2": {"b=fa:16:3e:00:00:0b"}}, nil, nil},
		{"double run", map[string][]string{"h1": {"a=fa:16:3e:00:00:0a"}, "h2": {"a=fa:16:3e:00:00:0a"}}, nil, []string{"double-run"}},
		{"IP held by an impostor's MAC", map[string][]string{"h1": {"a=fa:16:3e:00:00:0a"}, "h2": {"x=fa:16:3e:00:00:0a"}}, nil, []string{"duplicate-ip"}},
		{"MAC not the API's", map[string][]string{"h1": {"a=52:54:00:00:00:01"}}, nil, []string{"mac-mismatch"}},
		{"API lists an IP twice", nil, []Server{servers[0], {ID: "c", Addresses: []Address{{IP: "10.78.0.2", MAC: "fa:16:3e:00:00:0c"}}}}, []string{"api-duplicate-ip"}},
		{"powered-off and unknown hosts run nothing", map[string][]string{"h1": {"a=fa:16:3e:00:00:0a"}}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(nil)
			c.learn(servers)
			if tc.list != nil {
				c.learn(tc.list)
			}
			r := round(t0, tc.hosts)
			r.Hosts["h3"] = HostSample{State: HostOff}
			r.Hosts["h4"] = HostSample{State: HostUnknown}
			c.record(r)
			c.record(round(t0.Add(time.Second), tc.hosts)) // the same again: one violation, counted twice
			var got []string
			for _, v := range c.Violations() {
				got = append(got, v.Kind)
				if tc.list == nil && v.Count != 2 {
					t.Errorf("%s counted %d times, want 2", v, v.Count)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("violations %v, want kinds %v", c.Violations(), tc.want)
			}
		})
	}
}

func TestCheckerTimeline(t *testing.T) {
	c := newChecker(nil)
	t0 := time.Now()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 200 * time.Millisecond) }
	c.record(round(at(0), map[string][]string{"h1": {"a"}}))
	c.record(round(at(1), map[string][]string{"h1": {"a"}}))
	c.record(round(at(2), map[string][]string{"h1": nil}))
	unknown := round(at(3), map[string][]string{})
	unknown.Hosts["h1"] = HostSample{State: HostUnknown}
	c.record(unknown) // may have run a: counts as active
	c.record(round(at(4), map[string][]string{"h1": nil, "h2": {"a"}}))

	last, ok := c.HostLastActive("h1", t0, at(10))
	if !ok || last.Round != 3 {
		t.Fatalf("HostLastActive = %+v, %v; want round 3 (unknown counts)", last, ok)
	}
	if last, ok := c.HostLastActive("h1", at(4), at(10)); ok {
		t.Fatalf("HostLastActive from round 4 = %+v, want none", last)
	}
	first, ok := c.FirstActiveElsewhere("a", "h1", t0)
	if !ok || first.Round != 4 {
		t.Fatalf("FirstActiveElsewhere = %+v, %v; want round 4", first, ok)
	}
	if _, ok := c.FirstActiveElsewhere("a", "h2", at(4).Add(time.Millisecond)); ok {
		t.Fatal("FirstActiveElsewhere found a round that started before from")
	}
	if vs := c.TakeViolations(); len(vs) != 0 || len(c.Violations()) != 0 {
		t.Fatalf("violations %v", vs)
	}
}

func TestFigures(t *testing.T) {
	f := &Figures{Name: "x"}
	for _, s := range []int{9, 3, 5, 7} {
		f.Add(time.Duration(s) * time.Second)
	}
	if f.P50() != 5*time.Second || f.Max() != 9*time.Second {
		t.Fatalf("p50 %v max %v", f.P50(), f.Max())
	}
	if got, want := f.String(), "lab: x p50=5.00s max=9.00s n=4"; got != want {
		t.Fatalf("%q, want %q", got, want)
	}
}
