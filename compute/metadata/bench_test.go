package metadata

import (
	"net/http"
	"path/filepath"
	"testing"
)

// BenchmarkHandlerMetaData: one guest's meta_data.json through the whole
// handler (caller by source IP, MAC check, limiter, render), the request a
// booting cloud-init makes most. The limiter is opened wide: this measures
// the work, not the rate limit.
func BenchmarkHandlerMetaData(b *testing.B) {
	a, _, g, n := twoGuests()
	h, err := NewHandler(HandlerConfig{Guests: g, Resolver: n, Rate: 1e12, Burst: 1 << 30, Rand: zeros{}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rr := get(h, http.MethodGet, from(a), "/openstack/latest/meta_data.json"); rr.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rr.Code, rr.Body)
		}
	}
}

// BenchmarkConfigDrive: building one guest's config drive ISO, as the
// driver does at every define.
func BenchmarkConfigDrive(b *testing.B) {
	inst := fullInstance()
	dst := filepath.Join(b.TempDir(), "drive.iso")
	for b.Loop() {
		if err := ConfigDrive(dst, inst); err != nil {
			b.Fatal(err)
		}
	}
}
