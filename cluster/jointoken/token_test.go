package jointoken

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// fixed is a token with known parts, for seeds and hand-made payloads.
func fixed(addrs ...string) Token {
	t := Token{CA: [32]byte{0xca, 0xfe}, Addrs: addrs}
	for i := range t.id {
		t.id[i] = byte(i)
	}
	for i := range t.secret {
		t.secret[i] = byte(0x80 + i)
	}
	return t
}

// payload is fixed's binary form with n, then raw address records, then
// extra bytes appended: the malformed shapes Parse must refuse.
func payload(v byte, n int, addrs []string, extra ...byte) string {
	t := fixed()
	b := append([]byte{v}, t.id[:]...)
	b = append(b, t.secret[:]...)
	b = append(b, t.CA[:]...)
	b = append(b, byte(n))
	for _, a := range addrs {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return Prefix + encoding.EncodeToString(append(b, extra...))
}

func TestNewParse(t *testing.T) {
	ca := sha256.Sum256([]byte("ca"))
	addrs := []string{"10.0.0.1:8774", "[fd00::2]:8774", "node3.example:443"}
	tok, err := New(ca, addrs)
	if err != nil {
		t.Fatal(err)
	}
	s := tok.String()
	if !strings.HasPrefix(s, Prefix) || strings.ContainsAny(s, "=+/\n") {
		t.Fatalf("token %q is not prefix + unpadded base64url", s)
	}
	got, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID() != tok.ID() || got.SecretHash() != tok.SecretHash() || got.CA != ca || !slices.Equal(got.Addrs, addrs) {
		t.Fatalf("round trip changed the token: %#v", got)
	}
	if got.String() != s {
		t.Fatal("String of a parsed token differs from its input")
	}
	if len(tok.ID()) != 32 || len(tok.SecretHash()) != 64 {
		t.Fatalf("id %q, hash %q", tok.ID(), tok.SecretHash())
	}
	sum := sha256.Sum256(tok.secret[:])
	if tok.SecretHash() != hex.EncodeToString(sum[:]) {
		t.Fatal("SecretHash is not the hex SHA-256 of the secret")
	}
	other, _ := New(ca, addrs)
	if other.ID() == tok.ID() || other.SecretHash() == tok.SecretHash() {
		t.Fatal("two tokens share an id or a secret")
	}
	addrs[0] = "changed:1"
	if tok.Addrs[0] != "10.0.0.1:8774" {
		t.Fatal("New kept the caller's slice")
	}
}

func TestNewRefuses(t *testing.T) {
	long := strings.Repeat("a", 240) + ".example:8774"
	cases := map[string][]string{
		"no address":       nil,
		"17 addresses":     slices.Repeat([]string{"h:1"}, 17),
		"no port":          {"host"},
		"port 0":           {"host:0"},
		"port 65536":       {"host:65536"},
		"port with a zero": {"host:080"},
		"named port":       {"host:https"},
		"no host":          {":80"},
		"bare IPv6":        {"fd00::1:80"},
		"bracketed name":   {"[host]:80"},
		"space in host":    {"a b:80"},
		"leading dash":     {"-a:80"},
		"IPv6 zone":        {"[fe80::1%eth0]:80"},
		"too long in all":  slices.Repeat([]string{long}, 16),
		"address over 255": {strings.Repeat("a", 256) + ":1"},
	}
	for name, addrs := range cases {
		if _, err := New([32]byte{}, addrs); !errors.Is(err, ErrBadAddress) {
			t.Errorf("%s: %v, want ErrBadAddress", name, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	good := fixed("10.0.0.1:8774").String()
	body := strings.TrimPrefix(good, Prefix)
	cases := map[string]string{
		"empty":              "",
		"prefix only":        Prefix,
		"other prefix":       "shoaljoin2_" + body,
		"too long":           good + strings.Repeat("A", MaxLength),
		"newline inside":     Prefix + body[:10] + "\n" + body[10:],
		"padding":            good + "==",
		"standard base64":    Prefix + strings.ReplaceAll(body, "-", "+") + "+",
		"non-zero tail bits": tailBits(payload(1, 1, []string{"h:1"})),
		"version 2":          payload(2, 1, []string{"h:1"}),
		"no address":         payload(1, 0, nil),
		"17 addresses":       payload(1, 17, slices.Repeat([]string{"h:1"}, 17)),
		"fewer than counted": payload(1, 2, []string{"h:1"}),
		"address cut short":  payload(1, 1, nil, 9, 'h', ':'),
		"bad address":        payload(1, 1, []string{"h:0"}),
		"trailing byte":      payload(1, 1, []string{"h:1"}, 0),
		"truncated":          good[:len(good)-20],
	}
	for name, s := range cases {
		_, err := Parse(s)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
			continue
		}
		if len(s) > len(Prefix)+8 && strings.Contains(err.Error(), s[len(Prefix):len(Prefix)+8]) {
			t.Errorf("%s: the error %q quotes the input", name, err)
		}
	}
}

// tailBits sets the unused low bits of the last character (86 bytes leave
// two), which a lax decoder would ignore, making two spellings of one token.
func tailBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

// A token in a log or a %#v shows its id, never its secret.
func TestTokenNotLogged(t *testing.T) {
	tok := fixed("10.0.0.1:8774")
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("made", "token", tok)
	out := buf.String() + fmt.Sprintf("%#v", tok)
	secretHex := hex.EncodeToString(tok.secret[:])
	if strings.Contains(out, secretHex) || strings.Contains(out, tok.String()) ||
		strings.Contains(out, fmt.Sprint(tok.secret[:4])) || !strings.Contains(out, tok.ID()) {
		t.Fatalf("logged %q", out)
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		fixed("10.0.0.1:8774").String(),
		fixed("[fd00::1]:8774", "n2.example:8774", "10.0.0.3:1").String(),
		payload(1, 1, []string{"h:1"}, 0),
		payload(1, 2, []string{"h:1"}),
		Prefix, "", "shoaljoin1_AAAA", "shoaljoin1_\n", "garbage",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if tok.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, tok.String())
		}
		if len(tok.Addrs) == 0 || len(tok.Addrs) > MaxAddrs {
			t.Fatalf("%d addresses", len(tok.Addrs))
		}
	})
}
