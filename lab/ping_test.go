package lab

import (
	"testing"
	"time"
)

func TestLongestGap(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	every := func(from, to, step int) []time.Time {
		var out []time.Time
		for n := from; n <= to; n += step {
			out = append(out, ms(n))
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		replies  []time.Time
		from, to int // ms
		gap      time.Duration
		began    int // ms
	}{
		{"steady replies", every(0, 1000, 10), 0, 1000, 10 * time.Millisecond, 0},
		{"a switch-over's hole", append(every(0, 400, 10), every(720, 1000, 10)...), 0, 1000, 320 * time.Millisecond, 400},
		{"the hole at the start counts", every(250, 1000, 10), 0, 1000, 250 * time.Millisecond, 0},
		{"the hole at the end counts", every(0, 600, 10), 0, 1000, 400 * time.Millisecond, 600},
		{"no reply at all", nil, 0, 1000, time.Second, 0},
		{"replies outside the window are ignored", append(every(-500, -10, 10), every(1100, 1500, 10)...), 0, 1000, time.Second, 0},
		{"unsorted replies", []time.Time{ms(900), ms(100), ms(500)}, 0, 1000, 400 * time.Millisecond, 100},
		{"an empty window", every(0, 100, 10), 50, 50, 0, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gap, began := LongestGap(tc.replies, ms(tc.from), ms(tc.to))
			if gap != tc.gap || !began.Equal(ms(tc.began)) {
				t.Fatalf("LongestGap = %v from %v, want %v from %v", gap, began.Sub(t0), tc.gap, ms(tc.began).Sub(t0))
			}
		})
	}
	if r, ok := FirstAfter(every(0, 100, 10), ms(35)); !ok || !r.Equal(ms(40)) {
		t.Fatalf("FirstAfter 35 ms = %v, %v", r.Sub(t0), ok)
	}
	if _, ok := FirstAfter(every(0, 100, 10), ms(101)); ok {
		t.Fatal("FirstAfter past the last reply found one")
	}
}

func TestEcho(t *testing.T) {
	req := echoRequest(0xbeef, 7)
	if icmpChecksum(req) != 0 {
		t.Fatalf("echo request %x: checksum does not verify", req)
	}
	reply := append([]byte(nil), req...)
	reply[0] = 0
	if seq, ok := echoReply(reply, 0xbeef); !ok || seq != 7 {
		t.Fatalf("echoReply = %d, %v; want 7, true", seq, ok)
	}
	if _, ok := echoReply(reply, 0xbeee); ok {
		t.Fatal("echoReply took another identifier's reply")
	}
	if _, ok := echoReply(req, 0xbeef); ok {
		t.Fatal("echoReply took a request for a reply")
	}
}
