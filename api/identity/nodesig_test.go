package identity

import (
	"errors"
	"testing"
	"time"
)

func TestNodeSignature(t *testing.T) {
	signer := newSigner(t)
	keys := keyring{}
	keys.publish(signer)
	now := issuedAt
	good := signer.SignRequest("GET", "/v1/images/x/file", now)
	if kid, err := VerifyRequest(good, "GET", "/v1/images/x/file", now.Add(time.Minute), keys); err != nil || kid != signer.KeyID() {
		t.Fatalf("VerifyRequest(good) = %q, %v", kid, err)
	}
	other := newSigner(t)
	for _, tc := range []struct {
		name, value, method, path string
		now                       time.Time
		keys                      keyring
		want                      error
	}{
		{"other path", good, "GET", "/v1/images/y/file", now, keys, ErrBadSignature},
		{"other method", good, "PUT", "/v1/images/x/file", now, keys, ErrBadSignature},
		{"too late", good, "GET", "/v1/images/x/file", now.Add(NodeSignatureWindow + time.Second), keys, ErrExpired},
		{"too early", good, "GET", "/v1/images/x/file", now.Add(-NodeSignatureWindow - time.Second), keys, ErrExpired},
		{"unpublished key", other.SignRequest("GET", "/p", now), "GET", "/p", now, keys, ErrUnknownKey},
		{"retired key", good, "GET", "/v1/images/x/file", now, keyring{signer.KeyID(): {key: signer.PublicKey(), retired: now}}, ErrKeyRetired},
		{"garbage", "a.b", "GET", "/p", now, keys, ErrMalformed},
		{"bad time", signer.KeyID() + ".x.AAAA", "GET", "/p", now, keys, ErrMalformed},
		{"bad signature encoding", signer.KeyID() + ".1.!!", "GET", "/p", now, keys, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyRequest(tc.value, tc.method, tc.path, tc.now, tc.keys)
			if !errors.Is(err, tc.want) || !errors.Is(err, ErrUnauthorized) {
				t.Errorf("VerifyRequest = %v, want %v (and unauthorized)", err, tc.want)
			}
		})
	}
}
