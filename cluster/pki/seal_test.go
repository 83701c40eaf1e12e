package pki

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	ca, other := newTestCA(t, ""), newTestCA(t, "")
	key, err := NewGossipKey()
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != GossipKeySize {
		t.Fatalf("gossip key of %d bytes", len(key))
	}
	sealed, err := ca.Seal(key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, key) {
		t.Fatal("the sealed form holds the key in clear")
	}
	again, _ := ca.Seal(key)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are equal: the nonce is not random")
	}
	plain, err := ca.Open(sealed)
	if err != nil || !bytes.Equal(plain, key) {
		t.Fatalf("Open = %x, %v", plain, err)
	}

	cases := map[string][]byte{
		"empty":         nil,
		"short":         sealed[:10],
		"truncated":     sealed[:len(sealed)-1],
		"extended":      append(append([]byte{}, sealed...), 0),
		"nonce flipped": flip(sealed, 0),
		"body flipped":  flip(sealed, 12),
		"tag flipped":   flip(sealed, len(sealed)-1),
	}
	for name, in := range cases {
		if _, err := ca.Open(in); !errors.Is(err, ErrSealed) {
			t.Errorf("%s: %v, want ErrSealed", name, err)
		}
	}
	if _, err := other.Open(sealed); !errors.Is(err, ErrSealed) {
		t.Errorf("another CA opened it: %v", err)
	}
	if _, err := (&CA{Cert: ca.Cert}).Seal(key); err == nil {
		t.Error("sealed without the CA key")
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x01
	return out
}

func TestGossipKeyID(t *testing.T) {
	key := bytes.Repeat([]byte{7}, GossipKeySize)
	sum := sha256.Sum256(key)
	if id := GossipKeyID(key); id != hex.EncodeToString(sum[:8]) || len(id) != 16 {
		t.Fatalf("GossipKeyID = %q", id)
	}
}
