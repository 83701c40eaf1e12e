package identity

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

func TestIssueParseValidateRoundTrip(t *testing.T) {
	s := newSigner(t)
	keys := keyring{}
	keys.publish(s)
	in := claims()
	in.IssuedAt = in.IssuedAt.Add(700 * time.Millisecond) // the token keeps whole seconds
	token, err := s.Issue(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, Prefix) || strings.Count(token, ".") != 2 {
		t.Fatalf("token %q: want shoal1.<payload>.<signature>", token)
	}
	if len(token) > MaxTokenSize {
		t.Fatalf("token is %d bytes, over %d", len(token), MaxTokenSize)
	}
	got, err := Parse(token, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := claims()
	want.KeyID = s.KeyID()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("claims:\n got %+v\nwant %+v", got, want)
	}
	if err := Validate(got, issuedAt.Add(time.Minute), liveState()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestIssueRefusesBadClaims(t *testing.T) {
	s := newSigner(t)
	tests := []struct {
		name   string
		change func(*Claims)
	}{
		{"no user", func(c *Claims) { c.UserID = "" }},
		{"no project", func(c *Claims) { c.ProjectID = "" }},
		{"no audit ID", func(c *Claims) { c.AuditID = "" }},
		{"no methods", func(c *Claims) { c.Methods = nil }},
		{"no issue time", func(c *Claims) { c.IssuedAt = time.Time{} }},
		{"expires at issue", func(c *Claims) { c.ExpiresAt = c.IssuedAt }},
		{"over 512 bytes", func(c *Claims) { c.UserID = strings.Repeat("u", 300) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claims()
			tt.change(&c)
			if _, err := s.Issue(c); !errors.Is(err, fsm.ErrInvalid) {
				t.Fatalf("Issue: got %v, want ErrInvalid", err)
			}
		})
	}
}

// TestParseRefuses covers what Parse alone can tell: every forged, damaged or
// foreign token.
func TestParseRefuses(t *testing.T) {
	s, other, stranger := newSigner(t), newSigner(t), newSigner(t)
	keys := keyring{}
	keys.publish(s)
	keys.publish(other)
	token, err := s.Issue(claims())
	if err != nil {
		t.Fatal(err)
	}
	payloadPart, sigPart, _ := strings.Cut(strings.TrimPrefix(token, Prefix), ".")
	good := payloadOf(s, claims())

	tamperedPayload := func() string {
		p := good
		p.UserID = strings.Repeat("f", 32)
		raw, _ := json.Marshal(p)
		return Prefix + b64.EncodeToString(raw) + "." + sigPart
	}()
	tamperedSignature := func() string {
		sig, _ := b64.DecodeString(sigPart)
		sig[10] ^= 1
		return Prefix + payloadPart + "." + b64.EncodeToString(sig)
	}()
	retiredKeys := keyring{s.KeyID(): {key: s.PublicKey(), retired: issuedAt}}
	withPayload := func(change func(*payload)) string {
		p := good
		change(&p)
		return forge(t, s.private, p)
	}

	tests := []struct {
		name  string
		token string
		keys  KeySource
		want  error
	}{
		{"empty", "", keys, ErrMalformed},
		{"no prefix", strings.TrimPrefix(token, Prefix), keys, ErrMalformed},
		{"other version", "shoal2." + strings.TrimPrefix(token, Prefix), keys, ErrMalformed},
		{"no signature", Prefix + payloadPart, keys, ErrMalformed},
		{"extra part", token + ".x", keys, ErrMalformed},
		{"padded base64", Prefix + payloadPart + "==." + sigPart, keys, ErrMalformed},
		{"standard base64", strings.ReplaceAll(strings.ReplaceAll(token, "-", "+"), "_", "/") + "+/", keys, ErrMalformed},
		{"short signature", Prefix + payloadPart + "." + sigPart[:40], keys, ErrMalformed},
		{"over 512 bytes", token + strings.Repeat("A", MaxTokenSize), keys, ErrMalformed},
		{"not JSON", signRaw(s.private, []byte("kid=1")), keys, ErrMalformed},
		{"unknown field", signRaw(s.private, []byte(`{"kid":"`+s.KeyID()+`","uid":"u","pid":"p","iat":1,"exp":2,"aid":"a","m":["password"],"roles":["admin"]}`)), keys, ErrMalformed},
		{"trailing JSON", signRaw(s.private, []byte(`{"kid":"`+s.KeyID()+`","uid":"u","pid":"p","iat":1,"exp":2,"aid":"a","m":["password"]}{}`)), keys, ErrMalformed},
		{"no user", withPayload(func(p *payload) { p.UserID = "" }), keys, ErrMalformed},
		{"no project", withPayload(func(p *payload) { p.ProjectID = "" }), keys, ErrMalformed},
		{"expires before issue", withPayload(func(p *payload) { p.ExpiresAt = p.IssuedAt - 1 }), keys, ErrMalformed},
		{"key ID not hex", withPayload(func(p *payload) { p.KeyID = strings.ToUpper(s.KeyID()) }), keys, ErrMalformed},
		{"tampered payload", tamperedPayload, keys, ErrBadSignature},
		{"tampered signature", tamperedSignature, keys, ErrBadSignature},
		{"other node's key under this kid", forge(t, other.private, good), keys, ErrBadSignature},
		{"unknown kid", mustIssue(t, stranger), keys, ErrUnknownKey},
		{"key retired at issue", token, retiredKeys, ErrKeyRetired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.token, tt.keys)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse: got %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrUnauthorized) || fsm.KindOf(err) != "unauthorized" {
				t.Fatalf("Parse: %v does not wrap ErrUnauthorized (kind %q)", err, fsm.KindOf(err))
			}
		})
	}
}

func TestParseAcceptsKeyRetiredAfterIssue(t *testing.T) {
	s := newSigner(t)
	keys := keyring{s.KeyID(): {key: s.PublicKey(), retired: issuedAt.Add(time.Second)}}
	if _, err := Parse(mustIssue(t, s), keys); err != nil {
		t.Fatalf("a key retired after issue must still verify its tokens: %v", err)
	}
}

// TestValidateRefuses covers what can change after issue: each case takes
// the live state in which the token was valid and changes one thing.
func TestValidateRefuses(t *testing.T) {
	now := issuedAt.Add(time.Hour)
	tests := []struct {
		name   string
		now    time.Time
		change func(*memState)
		want   error
	}{
		{"expired", issuedAt.Add(12 * time.Hour), nil, ErrExpired},
		{"long expired", issuedAt.Add(100 * time.Hour), nil, ErrExpired},
		{"revoked", now, func(m *memState) { m.revoked[auditID] = true }, ErrRevoked},
		{"user deleted", now, func(m *memState) { delete(m.users, userID) }, ErrUserNotFound},
		{"user disabled", now, func(m *memState) {
			m.users[userID] = UserInfo{Enabled: false, TokensValidAfter: issuedAt.Add(time.Minute)}
		}, ErrUserDisabled},
		{"password changed after issue", now, func(m *memState) {
			m.users[userID] = UserInfo{Enabled: true, TokensValidAfter: issuedAt.Add(time.Minute)}
		}, ErrSuperseded},
		{"password changed in the second of issue", now, func(m *memState) {
			m.users[userID] = UserInfo{Enabled: true, TokensValidAfter: issuedAt.Add(300 * time.Millisecond)}
		}, ErrSuperseded},
		{"project deleted", now, func(m *memState) { delete(m.projects, projectID) }, ErrProjectNotFound},
		{"project disabled", now, func(m *memState) { m.projects[projectID] = false }, ErrProjectDisabled},
		{"role lost", now, func(m *memState) { delete(m.roles, [2]string{userID, projectID}) }, ErrNoRole},
		{"role on another project only", now, func(m *memState) {
			delete(m.roles, [2]string{userID, projectID})
			m.projects["other"] = true
			m.roles[[2]string{userID, "other"}] = true
		}, ErrNoRole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := liveState()
			if err := Validate(claims(), tt.now.Add(-time.Nanosecond), state); err != nil && tt.change != nil {
				t.Fatalf("before the change: %v", err)
			}
			if tt.change != nil {
				tt.change(state)
			}
			err := Validate(claims(), tt.now, state)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate: got %v, want %v", err, tt.want)
			}
			if !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("Validate: %v does not wrap ErrUnauthorized", err)
			}
		})
	}
}

func TestIssuedAtFor(t *testing.T) {
	tests := []struct {
		name            string
		now, validAfter time.Time
		want            time.Time
	}{
		{"long after the cut-off", issuedAt.Add(1500 * time.Millisecond), issuedAt.Add(-time.Hour), issuedAt.Add(time.Second)},
		{"same second, after the cut-off", issuedAt.Add(900 * time.Millisecond), issuedAt.Add(300 * time.Millisecond), issuedAt.Add(time.Second)},
		{"cut-off on a whole second", issuedAt.Add(200 * time.Millisecond), issuedAt, issuedAt},
		{"no cut-off", issuedAt.Add(200 * time.Millisecond), time.Time{}, issuedAt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := IssuedAtFor(tt.now, tt.validAfter)
			if !got.Equal(tt.want) {
				t.Fatalf("IssuedAtFor: got %v, want %v", got, tt.want)
			}
			c := claims()
			c.IssuedAt, c.ExpiresAt = got, got.Add(time.Hour)
			state := liveState()
			state.users[userID] = UserInfo{Enabled: true, TokensValidAfter: tt.validAfter}
			if err := Validate(c, tt.now, state); err != nil {
				t.Fatalf("a token stamped IssuedAtFor must validate: %v", err)
			}
		})
	}
}

func mustIssue(t testing.TB, s *Signer) string {
	t.Helper()
	token, err := s.Issue(claims())
	if err != nil {
		t.Fatal(err)
	}
	return token
}
