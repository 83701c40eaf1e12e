package nova_test

import (
	"strconv"
	"testing"

	"github.com/shoal-project/shoal/api/apitest"
)

// TestConsoleOutputLength: a length counts the pieces of the log split at
// "\n", as Nova's _tail_log does: a log ending in a newline gives N-1
// lines and that newline (Tempest asks for 3 and counts 3 pieces), one
// cut mid-line gives N pieces, the last one partial.
func TestConsoleOutputLength(t *testing.T) {
	e := newServersEnv(t)
	const id = "b0000000-0000-4000-8000-000000000002"
	e.SeedServer(t, e.alpha, id, "web", apitest.CirrosID, apitest.NodeName)
	for _, tc := range []struct {
		log    string
		length int
		want   string
	}{
		{log: "a\nb\nc\nd\ne\n", length: 3, want: "d\ne\n"},
		{log: "a\nb\nc\nd\nlogin: ", length: 3, want: "c\nd\nlogin: "},
		{log: "a\nb\n", length: 5, want: "a\nb\n"},
		{log: "a\nb\nc\n", length: 1, want: ""},
		{log: "a\nb\nc\n", length: -1, want: "a\nb\nc\n"},
	} {
		e.Consoles.Set(id, tc.log)
		status, raw := e.call(t, "POST", "/servers/"+id+"/action",
			`{"os-getConsoleOutput":{"length":`+strconv.Itoa(tc.length)+`}}`, e.alpha.Token)
		var out map[string]string
		decode(t, raw, &out)
		if status != 200 || out["output"] != tc.want {
			t.Errorf("%q length %d: %d %q, want %q", tc.log, tc.length, status, out["output"], tc.want)
		}
	}
}
