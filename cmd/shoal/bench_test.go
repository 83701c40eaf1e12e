package main

import (
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 20; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Second)
	}
	p50, p95, worst := percentiles(d)
	if p50 != 10*time.Second || p95 != 19*time.Second || worst != 20*time.Second {
		t.Fatalf("percentiles = %v %v %v, want 10s 19s 20s", p50, p95, worst)
	}
	if p50, p95, worst := percentiles([]time.Duration{time.Second}); p50 != time.Second || p95 != time.Second || worst != time.Second {
		t.Fatalf("one sample: %v %v %v", p50, p95, worst)
	}
}
