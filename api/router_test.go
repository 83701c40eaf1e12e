package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// call sends one request and returns the response with its body read. It
// sends the bootstrap admin's token unless header names X-Auth-Token (an
// empty value sends none).
func call(t *testing.T, ts *httptest.Server, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(HeaderAuthToken, adminToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get(HeaderAuthToken) == "" {
		req.Header.Del(HeaderAuthToken)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantError checks the status and the documented error shape.
func wantError(t *testing.T, resp *http.Response, body []byte, status int, contains string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var e ErrorBody
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if e.Error.Code != status || e.Error.Kind == "" || e.Error.Message == "" {
		t.Errorf("error body = %+v, want code %d, a kind and a message", e, status)
	}
	if sentinel := fsm.ErrorOfKind(e.Error.Kind); sentinel != nil {
		if st, _ := statusOf(sentinel); st != status {
			t.Errorf("kind %q is status %d, but the answer is %d", e.Error.Kind, st, status)
		}
	}
	if !strings.Contains(e.Error.Message, contains) {
		t.Errorf("message %q does not contain %q", e.Error.Message, contains)
	}
	if resp.Header.Get(HeaderRequestID) == "" {
		t.Error("error response has no request ID")
	}
}

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

func indexOf(t *testing.T, resp *http.Response) uint64 {
	t.Helper()
	v := resp.Header.Get(HeaderIndex)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", HeaderIndex, v, err)
	}
	return n
}

func TestRequestID(t *testing.T) {
	_, ts := newTestServer(t)
	long := strings.Repeat("a", 65)
	tests := []struct {
		name, method, path, body, incoming string
		wantSame                           bool
	}{
		{"success", "GET", "/v1/flavors", "", "", false},
		{"echoed", "GET", "/v1/flavors", "", "abc-123_x.y", true},
		{"too long", "GET", "/v1/flavors", "", long, false},
		{"bad characters", "GET", "/v1/flavors", "", "a b<script>", false},
		{"bad request", "POST", "/v1/flavors", "{", "", false},
		{"unknown route", "GET", "/v1/nope", "", "", false},
		{"wrong method", "PUT", "/v1/flavors", "", "", false},
		{"no content", "DELETE", "/v1/flavors/1", "", "mine", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hdr []string
			if tt.incoming != "" {
				hdr = []string{HeaderRequestID, tt.incoming}
			}
			resp, _ := call(t, ts, tt.method, tt.path, tt.body, hdr...)
			got := resp.Header.Values(HeaderRequestID)
			if len(got) != 1 {
				t.Fatalf("request IDs = %q, want one", got)
			}
			switch {
			case tt.wantSame && got[0] != tt.incoming:
				t.Errorf("request ID = %q, want %q", got[0], tt.incoming)
			case !tt.wantSame && !strings.HasPrefix(got[0], "req-"):
				t.Errorf("request ID = %q, want a generated req-…", got[0])
			}
		})
	}
}

func TestRoutingErrors(t *testing.T) {
	_, ts := newTestServer(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/nope", 404, ""},
		{"GET", "/", 404, ""},
		{"GET", "/v1/flavors/", 404, ""},
		{"PUT", "/v1/flavors", 405, "GET, HEAD, POST"},
		{"DELETE", "/v1/hosts", 405, "GET, HEAD"},
		{"GET", "/v1/cluster/gossip-key/rotate", 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := call(t, ts, tt.method, tt.path, "")
			wantError(t, resp, body, tt.status, tt.path)
			if got := resp.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
}

func TestReadsCarryIndex(t *testing.T) {
	c, ts := newTestServer(t)
	wantReadIndex(t, ts, c.FSM.Index(), "/v1/health", "/v1/cluster/members", "/v1/cluster/leader", "/v1/flavors", "/v1/flavors/1", "/v1/flavors/m1.small", "/v1/hosts")
}

// wantReadIndex checks that a GET of each path answers 200 with the replica
// index want in its header.
func wantReadIndex(t *testing.T, ts *httptest.Server, want uint64, paths ...string) {
	t.Helper()
	for _, path := range paths {
		resp, body := call(t, ts, "GET", path, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		if got := indexOf(t, resp); got != want {
			t.Errorf("GET %s: index %d, want %d", path, got, want)
		}
	}
}

func TestStatusTable(t *testing.T) {
	tests := []struct {
		err    error
		status int
		retry  bool
		kind   string
	}{
		{fmt.Errorf("%w: bad", fsm.ErrInvalid), 400, false, "invalid"},
		{fmt.Errorf("%w: gone", fsm.ErrNotFound), 404, false, "not_found"},
		{fmt.Errorf("%w: dup", fsm.ErrConflict), 409, false, "conflict"},
		{&fsm.QuotaError{Resource: fsm.QuotaInstances, Requested: 3, Allowed: 2}, 403, false, "over_quota"},
		{fmt.Errorf("apply: %w", fsm.ErrNoLeader), 503, true, "no_leader"},
		{fmt.Errorf("forward: %w", fsm.ErrUnavailable), 503, true, "unavailable"},
		{fmt.Errorf("%w: PUT", errMethodNotAllowed), 405, false, "method_not_allowed"},
		{fmt.Errorf("%w: 2 MiB", errTooLarge), 413, false, "too_large"},
		{fmt.Errorf("%w: text/plain", errMediaType), 415, false, "unsupported_media_type"},
		{fmt.Errorf("%w: uploads", errNotImplemented), 501, false, "not_implemented"},
		{fmt.Errorf("wait: %w", context.DeadlineExceeded), 504, false, "timeout"},
		{io.EOF, 500, false, "internal"},
	}
	for _, tt := range tests {
		status, retry := statusOf(tt.err)
		if status != tt.status || retry != tt.retry {
			t.Errorf("statusOf(%v) = %d, %v; want %d, %v", tt.err, status, retry, tt.status, tt.retry)
		}
		if kind := kindOf(tt.err); kind != tt.kind {
			t.Errorf("kindOf(%v) = %q, want %q", tt.err, kind, tt.kind)
		}
	}
}
