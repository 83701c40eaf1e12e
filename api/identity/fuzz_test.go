package identity

import (
	"crypto/ed25519"
	"errors"
	"testing"
	"time"
)

// FuzzParse: no input makes Parse panic, every refusal is ErrUnauthorized,
// and nothing but the signer's own tokens is accepted.
func FuzzParse(f *testing.F) {
	seed := make([]byte, ed25519.SeedSize) // a fixed key, so the corpus replays
	s := NewSigner(ed25519.NewKeyFromSeed(seed))
	keys := keyring{}
	keys.publish(s)
	token := mustIssue(f, s)
	f.Add(token)
	f.Add(token[:len(token)-1])
	f.Add(Prefix)
	f.Add(Prefix + ".")
	f.Add(Prefix + "e30." + token[len(token)-86:]) // {} with a signature
	f.Add(signRaw(s.private, []byte(`{"kid":"`+s.KeyID()+`","uid":"u","pid":"p","iat":1,"exp":2,"aid":"a","m":["x"]}`)))
	f.Add(signRaw(s.private, []byte(`{"iat":1e400}`)))
	f.Add(signRaw(s.private, []byte(`{"m":[null],"kid":null}`)))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := Parse(token, keys)
		if err != nil {
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("Parse(%q): %v does not wrap ErrUnauthorized", token, err)
			}
			return
		}
		if c.KeyID != s.KeyID() || !c.ExpiresAt.After(c.IssuedAt) || len(token) > MaxTokenSize {
			t.Fatalf("Parse(%q) accepted %+v", token, c)
		}
		// Whatever was accepted was signed by s: re-issuing it gives a token
		// that parses to the same claims.
		again, err := s.Issue(c)
		if err != nil {
			t.Fatalf("re-issue %+v: %v", c, err)
		}
		if c2, err := Parse(again, keys); err != nil || !c2.IssuedAt.Equal(c.IssuedAt) || c2.UserID != c.UserID {
			t.Fatalf("re-issued token: %+v, %v", c2, err)
		}
		_ = Validate(c, time.Unix(0, 0), liveState())
	})
}
