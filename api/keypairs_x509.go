package api

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// x509 keypairs (Nova's type "x509", microversion 2.2): a certificate in
// PEM that a Windows guest maps to a user for WinRM. Its fingerprint is
// Nova's: the SHA-1 of the DER certificate, colon-separated hex.

// certValidity is how long a generated certificate lasts (Nova's: ten
// years).
const certValidity = 10 * 365 * 24 * time.Hour

// parseCertificate accepts one PEM certificate and returns its fingerprint.
func parseCertificate(text string) (string, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return "", fmt.Errorf("%w: Keypair data is invalid: failed to generate fingerprint", fsm.ErrInvalid)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return "", fmt.Errorf("%w: Keypair data is invalid: failed to generate fingerprint", fsm.ErrInvalid)
	}
	return certFingerprint(block.Bytes), nil
}

func certFingerprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = hex.EncodeToString([]byte{b})
	}
	return strings.Join(parts, ":")
}

// generateCertificate makes a self-signed client certificate for user
// (an RSA key of minRSABits): the certificate in PEM, its fingerprint,
// and the private key in PEM (PKCS #8), shown once.
func generateCertificate(user string, now time.Time) (cert, fingerprint, private string, err error) {
	key, err := rsa.GenerateKey(rand.Reader, minRSABits)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return "", "", "", fmt.Errorf("generating a certificate: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: user},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", "", fmt.Errorf("generating a certificate: %w", err)
	}
	cert = strings.TrimSpace(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	private = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	return cert, certFingerprint(der), private, nil
}
