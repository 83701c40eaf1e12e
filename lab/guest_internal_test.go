package lab

import (
	"regexp"
	"testing"
)

func TestProbeAnswer(t *testing.T) {
	begin := "shoal-probe-7 begin\n"
	end := regexp.MustCompile(`shoal-probe-7 rc=([0-9]+)\n`)
	// What the console shows of a Run: the prompt, the typed line echoed
	// (markers quoted, so they match nothing), then the answer.
	typed := "/ # echo shoal-probe-7 be''gin; hostname; echo shoal-probe-7 rc=$?\r\n"
	for _, tc := range []struct {
		name, console, out string
		done               bool
		rc                 int
	}{
		{"nothing yet", "", "", false, 0},
		{"echo only", typed, "", false, 0},
		{"running", typed + "shoal-probe-7 begin\r\nweb-1\r\n", "web-1\n", false, 0},
		{"rc half written", typed + "shoal-probe-7 begin\r\nweb-1\r\nshoal-probe-7 rc=1", "web-1\nshoal-probe-7 rc=1", false, 0},
		{"done", typed + "shoal-probe-7 begin\r\nweb-1\r\nshoal-probe-7 rc=0\r\n/ # ", "web-1\n", true, 0},
		{"no newline", typed + "shoal-probe-7 begin\r\nab shoal-probe-7 rc=12\r\n", "ab ", true, 12},
		{"another probe's", typed + "shoal-probe-71 begin\r\nx\r\nshoal-probe-71 rc=0\r\n", "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, done, rc := probeAnswer(tc.console, begin, end)
			if out != tc.out || done != tc.done || rc != tc.rc {
				t.Errorf("probeAnswer = %q, %v, %d; want %q, %v, %d", out, done, rc, tc.out, tc.done, tc.rc)
			}
		})
	}
}

func TestLastBoot(t *testing.T) {
	log := "shoal-tiny: booting\r\nshoal-tiny: dhcp address 10.0.0.5\r\nshoal-tiny: booting\r\nshoal-tiny: dhcp addr"
	if got := lastBoot(log); got != "shoal-tiny: booting\n" {
		t.Errorf("lastBoot = %q", got)
	}
	if got := lastBoot("no marker\npartial"); got != "no marker\n" {
		t.Errorf("lastBoot without a boot = %q", got)
	}
}
