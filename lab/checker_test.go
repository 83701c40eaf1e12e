package lab

import (
	"strings"
	"testing"
	"time"
)

// round builds a sample: host → instance IDs with their MACs ("id=mac"),
// running unless suffixed "/paused"; every domain's Run is 1.
func round(at time.Time, hosts map[string][]string) Round {
	r := Round{Start: at, End: at.Add(10 * time.Millisecond), Hosts: map[string]HostSample{}}
	for name, doms := range hosts {
		r.Hosts[name] = listing(at, doms...)
	}
	return r
}

// listing is one host's sample taken at at (answered 5 ms later): domains
// as round takes them.
func listing(at time.Time, doms ...string) HostSample {
	s := HostSample{State: HostOn, Domains: map[string]Domain{}, At: at, Done: at.Add(5 * time.Millisecond), Boot: "1"}
	for _, d := range doms {
		d, paused := strings.CutSuffix(d, "/paused")
		id, mac, _ := strings.Cut(d, "=")
		state := "running"
		if paused {
			state = "paused"
		}
		s.Domains[id] = Domain{ID: id, State: state, MAC: mac, Run: 1}
	}
	return s
}

// listedNow is a listing asked and answered now, as a sandwich's are.
func listedNow(doms ...string) HostSample {
	s := listing(time.Now(), doms...)
	s.Done = s.At
	return s
}

// steady makes c's sandwiches list hosts as they are in hosts, now.
func steady(c *Checker, hosts map[string][]string) {
	c.probe = func(name string) HostSample {
		if doms, ok := hosts[name]; ok {
			return listedNow(doms...)
		}
		return HostSample{State: HostOff}
	}
}

func TestCheckerRules(t *testing.T) {
	servers := []Server{
		{ID: "a", Addresses: []Address{{IP: "10.78.0.2", MAC: "fa:16:3e:00:00:0a"}}},
		{ID: "b", Addresses: []Address{{IP: "10.78.0.3", MAC: "fa:16:3e:00:00:0b"}}},
	}
	t0 := time.Now().Add(-time.Minute) // rounds in the past: their sandwiches come after
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
			steady(c, tc.hosts)
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

// TestCheckerSandwich: a round that shows an instance running on two hosts
// (or a fixed IP held twice) is a violation only when listing B again and
// then A again shows both still running, A in the same run.
func TestCheckerSandwich(t *testing.T) {
	const mac = "fa:16:3e:00:00:0a"
	servers := []Server{{ID: "a", Addresses: []Address{{IP: "10.78.0.2", MAC: mac}}}}
	for _, tc := range []struct {
		name    string
		round   map[string][]string // what the round lists
		again   map[string][]string // what the sandwich's listings show, nil: no listing expected
		want    string              // violation kind, "" for none
		listed  string              // the hosts listed again, in order
		runOnA2 int32               // A's domain Run in the second listing of A (0: the same, 1)
	}{
		{name: "migration switch-over seen mid-way: the source gone when listed again",
			round: map[string][]string{"h1": {"a"}, "h2": {"a"}}, again: map[string][]string{"h1": nil, "h2": {"a"}},
			listed: "h2,h1"},
		{name: "switch-over: the source paused when listed again",
			round: map[string][]string{"h1": {"a"}, "h2": {"a"}}, again: map[string][]string{"h1": {"a/paused"}, "h2": {"a"}},
			listed: "h2,h1"},
		{name: "switch-over the other way round: the destination not yet resumed when listed again",
			round: map[string][]string{"h1": {"a"}, "h2": {"a"}}, again: map[string][]string{"h1": {"a"}, "h2": {"a/paused"}},
			listed: "h2"},
		{name: "a true double run",
			round: map[string][]string{"h1": {"a"}, "h2": {"a"}}, again: map[string][]string{"h1": {"a"}, "h2": {"a"}},
			want: "double-run", listed: "h2,h1"},
		{name: "A restarted between the two listings of A proves nothing",
			round: map[string][]string{"h1": {"a"}, "h2": {"a"}}, again: map[string][]string{"h1": {"a"}, "h2": {"a"}},
			listed: "h2,h1", runOnA2: 2},
		{name: "paused incoming domain beside the running source",
			round: map[string][]string{"h1": {"a"}, "h2": {"a/paused"}}},
		{name: "both paused (switch-over between pause and resume)",
			round: map[string][]string{"h1": {"a/paused"}, "h2": {"a/paused"}}},
		{name: "fixed IP held by a running impostor",
			round: map[string][]string{"h1": {"a=" + mac}, "h2": {"x=" + mac}}, again: map[string][]string{"h1": {"a=" + mac}, "h2": {"x=" + mac}},
			want: "duplicate-ip", listed: "h2,h1"},
		{name: "fixed IP held by a paused domain and a running one",
			round: map[string][]string{"h1": {"a=" + mac}, "h2": {"x=" + mac + "/paused"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChecker(nil)
			c.learn(servers)
			t0 := time.Now().Add(-time.Second) // the round ended before the sandwich
			r := round(t0, tc.round)
			// h1 answered the round first: it is A.
			for name, s := range r.Hosts {
				if name != "h1" {
					s.Done = s.Done.Add(time.Millisecond)
					r.Hosts[name] = s
				}
			}
			var listed []string
			c.probe = func(name string) HostSample {
				listed = append(listed, name)
				if tc.again == nil {
					t.Fatalf("listed %s again, want no sandwich", name)
				}
				s := listedNow(tc.again[name]...)
				if d, ok := s.Domains["a"]; ok && name == "h1" && len(listed) == 2 && tc.runOnA2 != 0 {
					d.Run = tc.runOnA2
					s.Domains["a"] = d
				}
				return s
			}
			c.record(r)
			if got := strings.Join(listed, ","); got != tc.listed {
				t.Errorf("listed again %q, want %q", got, tc.listed)
			}
			vs := c.Violations()
			switch {
			case tc.want == "" && len(vs) > 0:
				t.Fatalf("violations %v, want none", vs)
			case tc.want != "" && (len(vs) != 1 || vs[0].Kind != tc.want):
				t.Fatalf("violations %v, want one %s", vs, tc.want)
			case tc.want != "" && (vs[0].First.Before(t0) || vs[0].Span <= 0):
				t.Errorf("%s: first seen %v (round at %v), span %v", vs[0], vs[0].First, t0, vs[0].Span)
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
