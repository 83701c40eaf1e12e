package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/shoal-project/shoal/fsm"
)

// Keypairs in Nova's os-keypairs shapes. A keypair is its user's: a caller
// sees and changes only its own, an admin another user's with user_id
// (Nova's policy: admin or owner). Keys are parsed here, with
// golang.org/x/crypto/ssh, and never in Apply (see fsm/keypair.go). A key
// generated here is returned once, in the create's answer, and is never
// stored or logged.

const (
	// minRSABits is the smallest RSA key accepted (as ssh-keygen's default
	// and NIST's floor).
	minRSABits = 2048
	// generatedKeyComment marks public keys made here, as Nova marks its
	// own "Generated-by-Nova".
	generatedKeyComment = "Generated-by-Shoal"
)

// KeyPair is the wire shape of a keypair. PrivateKey is only in the answer
// to a create that generated the key (an OpenSSH PEM block).
type KeyPair struct {
	Name        string    `json:"name"`
	PublicKey   string    `json:"public_key"`
	Fingerprint string    `json:"fingerprint"`
	Type        string    `json:"type"`
	UserID      string    `json:"user_id"`
	Created     time.Time `json:"created_at"`
	PrivateKey  string    `json:"private_key,omitempty"`
}

// KeyPairCreate is what POST /v1/keypairs takes, wrapped as
// {"keypair":{...}}: without PublicKey a key is generated. Type is "ssh"
// (the default). UserID makes the keypair for another user (an admin's).
type KeyPairCreate struct {
	Name      string `json:"name"`
	PublicKey string `json:"public_key,omitempty"`
	Type      string `json:"type,omitempty"`
	UserID    string `json:"user_id,omitempty"`
}

// keyPairCreateRequest tells a missing public_key (generate) from an empty
// one (a bad import), as Nova does.
type keyPairCreateRequest struct {
	Name      string  `json:"name"`
	PublicKey *string `json:"public_key"`
	Type      string  `json:"type"`
	UserID    string  `json:"user_id"`
}

// KeyPairResponse is the body of GET /v1/keypairs/{name} and of a create.
type KeyPairResponse struct {
	KeyPair KeyPair `json:"keypair"`
}

// KeyPairList is the body of GET /v1/keypairs: each keypair wrapped on its
// own, as Nova lists them.
type KeyPairList struct {
	KeyPairs []KeyPairResponse `json:"keypairs"`
}

func (s *Server) listKeyPairs(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	user, err := keyPairQuery(r)
	var keys []KeyPair
	if err == nil {
		keys, err = s.ops.KeyPairs(r.Context(), user)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := KeyPairList{KeyPairs: []KeyPairResponse{}}
	for _, k := range keys {
		out.KeyPairs = append(out.KeyPairs, KeyPairResponse{KeyPair: k})
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, out)
}

func (s *Server) showKeyPair(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	user, err := keyPairQuery(r)
	var k KeyPair
	if err == nil {
		k, err = s.ops.KeyPair(r.Context(), user, r.PathValue("id"))
	}
	s.writeFound(w, r, idx, err, func() any { return KeyPairResponse{KeyPair: k} })
}

func (s *Server) deleteKeyPair(w http.ResponseWriter, r *http.Request) {
	user, err := keyPairQuery(r)
	var idx uint64
	if err == nil {
		idx, err = s.ops.DeleteKeyPair(r.Context(), user, r.PathValue("id"))
	}
	s.writeNoContent(w, r, idx, err)
}

func (s *Server) createKeyPair(w http.ResponseWriter, r *http.Request) {
	var req keyPairCreateRequest
	err := decodeWrapped(w, r, "keypair", &req)
	var user string
	if err == nil {
		user, err = keyPairQuery(r)
	}
	if req.UserID == "" {
		req.UserID = user
	}
	var (
		idx uint64
		k   KeyPair
	)
	if err == nil {
		idx, k, err = s.ops.createKeyPair(r.Context(), req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	location := "/v1/keypairs/" + url.PathEscape(k.Name)
	if k.UserID != Caller(r.Context()).UserID {
		location += "?user_id=" + url.QueryEscape(k.UserID)
	}
	writeCreated(w, idx, location, KeyPairResponse{KeyPair: k})
}

// newKeyPair checks a create request against the local replica and builds
// the keypair: the given key parsed, or a new one generated (then private
// is its private key).
func (s *Server) newKeyPair(ctx context.Context, req keyPairCreateRequest) (k fsm.KeyPair, private string, err error) {
	p := Caller(ctx)
	user, err := keyPairUser(ctx, req.UserID)
	if err != nil {
		return k, "", err
	}
	if user != p.UserID {
		u, err := s.state.User(user)
		if err != nil || u.ID != user {
			return k, "", fmt.Errorf("%w: User %s could not be found.", fsm.ErrInvalid, user)
		}
	}
	if err := fsm.ValidKeyPairName(req.Name); err != nil {
		return k, "", err
	}
	typ := fsm.KeyPairTypeSSH
	switch req.Type {
	case "", fsm.KeyPairTypeSSH:
	case fsm.KeyPairTypeX509:
		typ = fsm.KeyPairTypeX509
	default:
		return k, "", fmt.Errorf("%w: keypair type must be ssh or x509, not %q", fsm.ErrInvalid, truncate(req.Type))
	}
	if _, err := s.state.KeyPair(user, req.Name); err == nil {
		return k, "", fmt.Errorf("%w: Key pair '%s' already exists.", fsm.ErrConflict, req.Name)
	}
	k = fsm.KeyPair{Name: req.Name, UserID: user, ProjectID: p.ProjectID, Type: typ, Created: time.Now().UTC()}
	switch {
	case req.PublicKey != nil && typ == fsm.KeyPairTypeX509:
		k.PublicKey = strings.TrimSpace(*req.PublicKey)
		k.Fingerprint, err = parseCertificate(k.PublicKey)
		return k, "", err
	case req.PublicKey != nil:
		k.PublicKey = strings.TrimSpace(*req.PublicKey)
		k.Fingerprint, err = parsePublicKey(k.PublicKey)
		return k, "", err
	case typ == fsm.KeyPairTypeX509:
		k.PublicKey, k.Fingerprint, private, err = generateCertificate(user, k.Created)
		return k, private, err
	}
	k.PublicKey, k.Fingerprint, private, err = generateKeyPair()
	return k, private, err
}

// keyPairQuery is the user_id query parameter of a keypair route: whose
// keypairs it is about ("": the caller's; see keyPairUser).
func keyPairQuery(r *http.Request) (string, error) {
	q := r.URL.Query()
	if err := onlyParams(q, "user_id", "consistent"); err != nil {
		return "", err
	}
	return q.Get("user_id"), nil
}

func keyPairView(k fsm.KeyPair) KeyPair {
	return KeyPair{Name: k.Name, PublicKey: k.PublicKey, Fingerprint: k.Fingerprint, Type: k.Type, UserID: k.UserID, Created: k.Created}
}

// parsePublicKey accepts one public key in authorized_keys form, without
// options: ed25519, ecdsa, or RSA of at least minRSABits. It returns the
// fingerprint as Nova shows it (MD5, colon-separated hex).
func parsePublicKey(text string) (string, error) {
	key, _, options, rest, err := ssh.ParseAuthorizedKey([]byte(text))
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: Keypair data is invalid: not an OpenSSH public key (%v)", fsm.ErrInvalid, err)
	case len(options) > 0:
		return "", fmt.Errorf("%w: Keypair data is invalid: authorized_keys options are not allowed", fsm.ErrInvalid)
	case len(bytes.TrimSpace(rest)) > 0:
		return "", fmt.Errorf("%w: Keypair data is invalid: give one key, not several", fsm.ErrInvalid)
	}
	switch key.Type() {
	case ssh.KeyAlgoED25519, ssh.KeyAlgoECDSA256, ssh.KeyAlgoECDSA384, ssh.KeyAlgoECDSA521:
	case ssh.KeyAlgoRSA:
		var rk *rsa.PublicKey
		if ck, ok := key.(ssh.CryptoPublicKey); ok {
			rk, _ = ck.CryptoPublicKey().(*rsa.PublicKey)
		}
		if rk == nil || rk.N.BitLen() < minRSABits {
			return "", fmt.Errorf("%w: Keypair data is invalid: RSA keys must have at least %d bits", fsm.ErrInvalid, minRSABits)
		}
	default:
		return "", fmt.Errorf("%w: Keypair data is invalid: key type %s is not accepted (use ed25519, ecdsa or RSA of at least %d bits)",
			fsm.ErrInvalid, truncate(key.Type()), minRSABits)
	}
	return ssh.FingerprintLegacyMD5(key), nil
}

// generateKeyPair makes an ed25519 key: its public key in authorized_keys
// form, its fingerprint, and the private key as an OpenSSH PEM block.
// (Nova generated RSA until microversion 2.92 stopped generating at all.)
func generateKeyPair() (public, fingerprint, private string, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a keypair: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a keypair: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, generatedKeyComment)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a keypair: %w", err)
	}
	public = strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub))) + " " + generatedKeyComment
	return public, ssh.FingerprintLegacyMD5(sshPub), string(pem.EncodeToMemory(block)), nil
}
