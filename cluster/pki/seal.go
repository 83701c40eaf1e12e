package pki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
)

// GossipKeySize is memberlist's AES-256 key length.
const GossipKeySize = 32

// sealInfo separates the sealing key from any other key a future version
// derives from the CA key; bump the version to change the scheme.
const sealInfo = "shoal gossip keyring v1"

// ErrSealed is returned when sealed data cannot be opened: it was tampered
// with, truncated, or sealed under another cluster's CA.
var ErrSealed = errors.New("pki: sealed data cannot be opened")

// Seal encrypts plain (a gossip key) with AES-256-GCM under a key derived from
// the CA private key, a random nonce prepended. Raft stores only sealed keys,
// so a copy of the log or a snapshot alone does not reveal the keyring.
func (ca *CA) Seal(plain []byte) ([]byte, error) {
	aead, err := ca.sealer()
	if err != nil {
		return nil, err
	}
	return aead.Seal(nil, nil, plain, nil), nil
}

// Open reverses Seal; anything but an intact output of Seal under the same CA
// key is ErrSealed.
func (ca *CA) Open(sealed []byte) ([]byte, error) {
	aead, err := ca.sealer()
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrSealed)
	}
	plain, err := aead.Open(nil, nil, sealed, nil)
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}

// sealer derives the AEAD each time: sealing is rare (key rotation, start-up),
// and CA stays a plain struct with no cache to keep in step with Key.
func (ca *CA) sealer() (cipher.AEAD, error) {
	if ca == nil || ca.Key == nil {
		return nil, errors.New("pki: sealing needs the CA key")
	}
	secret, err := ca.Key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pki: CA key: %w", err)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("pki: derive sealing key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pki: sealing cipher: %w", err)
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// NewGossipKey makes a random memberlist key (AES-256).
func NewGossipKey() ([]byte, error) {
	key := make([]byte, GossipKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("pki: gossip key: %w", err)
	}
	return key, nil
}

// GossipKeyID names a gossip key without revealing it: the hex of the first
// 8 bytes of its SHA-256. Raft and gossip metadata (rotation progress) carry
// only this name.
func GossipKeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}
