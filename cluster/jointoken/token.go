package jointoken

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// Prefix starts every token: it names what the string is (in a paste or a
// leaked log, for secret scanners) and its format version.
const Prefix = "shoaljoin1_"

const (
	// MaxLength bounds a token string: Parse reads input from strangers.
	MaxLength = 2048
	// MaxAddrs bounds the addresses a token carries.
	MaxAddrs = 16

	version    = 1
	idSize     = 16
	secretSize = 32
	caSize     = 32
	maxAddr    = 255 // one length byte
	fixedSize  = 1 + idSize + secretSize + caSize + 1
)

var (
	// ErrMalformed means a string is not a well-formed join token. Its
	// messages never quote the input, which holds a secret.
	ErrMalformed = errors.New("jointoken: malformed join token")
	// ErrBadAddress means New was given an address a token cannot carry.
	ErrBadAddress = errors.New("jointoken: bad address")
)

// encoding has no padding; Strict refuses non-zero trailing bits, so one
// payload has exactly one string.
var encoding = base64.RawURLEncoding.Strict()

// Token is a decoded join token. The id and secret are unexported so that
// only String (the token itself, for the admin) and SecretHash (for Raft)
// ever give the secret out.
type Token struct {
	CA     [32]byte // SHA-256 of the cluster CA certificate's DER
	Addrs  []string // host:port of nodes' HTTPS API, leader first
	id     [idSize]byte
	secret [secretSize]byte
}

// New makes a token with a random id and secret for the CA with fingerprint
// ca, reachable at addrs.
func New(ca [32]byte, addrs []string) (Token, error) {
	if len(addrs) == 0 || len(addrs) > MaxAddrs {
		return Token{}, fmt.Errorf("%w: a token carries 1 to %d addresses, not %d", ErrBadAddress, MaxAddrs, len(addrs))
	}
	for _, a := range addrs {
		if !validAddr(a) {
			return Token{}, fmt.Errorf("%w: %q is not host:port with a port in 1..65535", ErrBadAddress, a)
		}
	}
	t := Token{CA: ca, Addrs: append([]string(nil), addrs...)}
	rand.Read(t.id[:]) // never fails (crypto/rand)
	rand.Read(t.secret[:])
	if len(t.String()) > MaxLength {
		return Token{}, fmt.Errorf("%w: addresses too long for a token of %d characters", ErrBadAddress, MaxLength)
	}
	return t, nil
}

// ID names the token (hex) in APIs, lists and Raft; it is not secret.
func (t Token) ID() string { return hex.EncodeToString(t.id[:]) }

// SecretHash is the hex SHA-256 of the secret: what Raft stores and compares,
// so a copy of the log cannot be used to join.
func (t Token) SecretHash() string {
	sum := sha256.Sum256(t.secret[:])
	return hex.EncodeToString(sum[:])
}

// String is the token as the admin passes it on, secret included: print it
// only to whoever asked for the token. Parse(t.String()) gives t back.
func (t Token) String() string {
	b := make([]byte, 0, fixedSize+len(t.Addrs)*24)
	b = append(b, version)
	b = append(b, t.id[:]...)
	b = append(b, t.secret[:]...)
	b = append(b, t.CA[:]...)
	b = append(b, byte(len(t.Addrs)))
	for _, a := range t.Addrs {
		b = append(b, byte(len(a)))
		b = append(b, a...)
	}
	return Prefix + encoding.EncodeToString(b)
}

// LogValue keeps the secret out of structured logs: a logged token shows
// its id only.
func (t Token) LogValue() slog.Value { return slog.StringValue("join token " + t.ID()) }

// GoString keeps the secret out of %#v, which would print unexported fields.
func (t Token) GoString() string { return "jointoken.Token{ID: " + t.ID() + ", <secret>}" }

// Parse decodes a token strictly: bounded length, the prefix, canonical
// base64url, version 1, exact field sizes, 1..MaxAddrs valid host:port
// addresses and no trailing bytes.
func Parse(s string) (Token, error) {
	if len(s) > MaxLength {
		return Token{}, fmt.Errorf("%w: longer than %d characters", ErrMalformed, MaxLength)
	}
	body, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Token{}, fmt.Errorf("%w: it does not start with %q", ErrMalformed, Prefix)
	}
	// The decoder skips CR and LF even in strict mode; refuse them (and
	// anything else off the alphabet) so that a token has one spelling.
	for i := 0; i < len(body); i++ {
		if c := body[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Token{}, fmt.Errorf("%w: a character outside base64url", ErrMalformed)
		}
	}
	b, err := encoding.DecodeString(body)
	if err != nil {
		return Token{}, fmt.Errorf("%w: bad base64url", ErrMalformed)
	}
	return decode(b)
}

func decode(b []byte) (Token, error) {
	if len(b) < fixedSize {
		return Token{}, fmt.Errorf("%w: too short", ErrMalformed)
	}
	if b[0] != version {
		return Token{}, fmt.Errorf("%w: unknown version %d", ErrMalformed, b[0])
	}
	var t Token
	b = b[1:]
	b = b[copy(t.id[:], b):]
	b = b[copy(t.secret[:], b):]
	b = b[copy(t.CA[:], b):]
	n := int(b[0])
	b = b[1:]
	if n == 0 || n > MaxAddrs {
		return Token{}, fmt.Errorf("%w: %d addresses, want 1 to %d", ErrMalformed, n, MaxAddrs)
	}
	for i := range n {
		if len(b) == 0 || len(b) < 1+int(b[0]) {
			return Token{}, fmt.Errorf("%w: address %d cut short", ErrMalformed, i)
		}
		a := string(b[1 : 1+int(b[0])])
		b = b[1+int(b[0]):]
		if !validAddr(a) {
			return Token{}, fmt.Errorf("%w: address %d is not host:port with a port in 1..65535", ErrMalformed, i)
		}
		t.Addrs = append(t.Addrs, a)
	}
	if len(b) != 0 {
		return Token{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(b))
	}
	return t, nil
}

// validAddr accepts host:port in its canonical spelling (brackets exactly
// around IPv6), a host that is an IP or a DNS name, and a decimal port in
// 1..65535 without leading zeros: the token carries it to a dialer, and a
// canonical form keeps one token one string.
func validAddr(a string) bool {
	if len(a) > maxAddr {
		return false
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil || host == "" || net.JoinHostPort(host, port) != a || !validPort(port) {
		return false
	}
	if net.ParseIP(host) != nil {
		return true
	}
	if strings.Contains(host, ":") || strings.HasPrefix(host, "-") || strings.HasPrefix(host, ".") {
		return false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}
