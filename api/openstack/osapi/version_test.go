package osapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

var nova = Negotiator{Service: "compute", LegacyHeader: "X-OpenStack-Nova-API-Version", Min: V(2, 1), Max: V(2, 60)}

func TestNegotiate(t *testing.T) {
	for _, c := range []struct {
		name           string
		header, legacy string
		want           Version
		status         int
	}{
		{name: "none is the minimum", want: V(2, 1)},
		{name: "new header", header: "compute 2.10", want: V(2, 10)},
		{name: "new header wins", header: "compute 2.20", legacy: "2.3", want: V(2, 20)},
		{name: "another service's version is not ours", header: "image 2.5", legacy: "2.3", want: V(2, 3)},
		{name: "several services", header: "image 2.5, compute 2.7", want: V(2, 7)},
		{name: "legacy", legacy: "2.60", want: V(2, 60)},
		{name: "latest", legacy: "latest", want: V(2, 60)},
		{name: "above max", legacy: "2.61", status: http.StatusNotAcceptable},
		{name: "below min", header: "compute 2.0", status: http.StatusNotAcceptable},
		{name: "major 3", legacy: "3.0", status: http.StatusNotAcceptable},
		{name: "malformed", legacy: "2.x", status: http.StatusBadRequest},
		{name: "leading zero", legacy: "2.01", status: http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			if c.header != "" {
				r.Header.Set("OpenStack-API-Version", c.header)
			}
			if c.legacy != "" {
				r.Header.Set("X-OpenStack-Nova-API-Version", c.legacy)
			}
			v, status, msg := nova.Negotiate(r)
			if status != c.status || (status == 0 && v != c.want) {
				t.Fatalf("got %v %d %q, want %v %d", v, status, msg, c.want, c.status)
			}
		})
	}
}

func TestWrapAnswersWithTheVersionAndFaults(t *testing.T) {
	var seen Version
	h := nova.Wrap(func(w http.ResponseWriter, r *http.Request) { seen = Requested(r.Context()) }, NovaFault)
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("OpenStack-API-Version", "compute 2.33")
	w := httptest.NewRecorder()
	h(w, r)
	if seen != V(2, 33) || w.Header().Get("OpenStack-API-Version") != "compute 2.33" || w.Header().Get("X-OpenStack-Nova-API-Version") != "2.33" {
		t.Fatalf("seen %v, headers %v", seen, w.Header())
	}

	r.Header.Set("OpenStack-API-Version", "compute 2.99")
	w = httptest.NewRecorder()
	h(w, r)
	var body map[string]struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 406 ||
		body["computeFault"].Message != "Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.60." {
		t.Fatalf("406: %d %s %v", w.Code, w.Body, err)
	}
}

func TestWrapRangesHideARoute(t *testing.T) {
	h := nova.Wrap(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, NovaFault, Until(2, 43))
	for v, want := range map[string]int{"2.1": 204, "2.43": 204, "2.44": 404} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("X-OpenStack-Nova-API-Version", v)
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != want {
			t.Errorf("at %s: %d, want %d (%s)", v, w.Code, want, w.Body)
		}
	}
	if !Since(2, 53).Holds(V(2, 90)) || Since(2, 53).Holds(V(2, 52)) {
		t.Error("Since")
	}
}
