package identity

import (
	"crypto/ed25519"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// HeaderNodeSignature carries a node's signature on a request it makes to
// another node on its own behalf (fetching image data from a peer), where
// there is no user and so no token.
const HeaderNodeSignature = "X-Shoal-Node-Signature"

// NodeSignatureWindow is how far a signed request's time may be from the
// receiver's clock: it bounds replay and tolerates the nodes' clock skew.
const NodeSignatureWindow = 5 * time.Minute

// SignRequest returns the HeaderNodeSignature value for method and path
// (with its query) at now: "<kid>.<unix seconds>.<signature>", the signature
// over the key ID, the time, the method and the path.
func (s *Signer) SignRequest(method, path string, now time.Time) string {
	at := now.Unix()
	sig := ed25519.Sign(s.private, nodeMessage(s.id, at, method, path))
	return s.id + "." + strconv.FormatInt(at, 10) + "." + b64.EncodeToString(sig)
}

// VerifyRequest checks a HeaderNodeSignature value for method and path at
// now against the published keys and returns the signing key's ID. Every
// refusal wraps ErrUnauthorized.
func VerifyRequest(value, method, path string, now time.Time, keys KeySource) (kid string, err error) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 || len(value) > MaxTokenSize {
		return "", ErrMalformed
	}
	kid = parts[0]
	at, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return "", ErrMalformed
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return "", ErrMalformed
	}
	key, retired, ok := keys.PublicKey(kid)
	if !ok {
		return "", ErrUnknownKey
	}
	if !ed25519.Verify(key, nodeMessage(kid, at, method, path), sig) {
		return "", ErrBadSignature
	}
	signed := time.Unix(at, 0)
	if !retired.IsZero() && !signed.Before(retired) {
		return "", ErrKeyRetired
	}
	if d := now.Sub(signed); d > NodeSignatureWindow || d < -NodeSignatureWindow {
		return "", fmt.Errorf("%w: signed at %s, %s from now", ErrExpired, signed.UTC().Format(time.RFC3339), d.Round(time.Second))
	}
	return kid, nil
}

func nodeMessage(kid string, at int64, method, path string) []byte {
	return fmt.Appendf(nil, "shoal-node\n%s\n%d\n%s\n%s", kid, at, method, path)
}

// SignHTTP signs req on this node's behalf, now.
func (s *Signer) SignHTTP(req *http.Request) {
	req.Header.Set(HeaderNodeSignature, s.SignRequest(req.Method, req.URL.RequestURI(), time.Now()))
}
