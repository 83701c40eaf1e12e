package identity

import (
	"testing"
	"time"
)

// BenchmarkTokenValidate measures what every authenticated request pays:
// Parse (Ed25519 verify) plus Validate against an in-memory state. Run it
// with -cpu 1 for the validations per second of one core.
func BenchmarkTokenValidate(b *testing.B) {
	s := newSigner(b)
	keys := keyring{}
	keys.publish(s)
	token := mustIssue(b, s)
	state := liveState()
	now := issuedAt.Add(time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		c, err := Parse(token, keys)
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(c, now, state); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "validations/s")
}

// BenchmarkTokenIssue measures what a login pays beyond bcrypt.
func BenchmarkTokenIssue(b *testing.B) {
	s := newSigner(b)
	c := claims()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}
