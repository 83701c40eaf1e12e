package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// ErrFingerprint means the server did not present the CA a join token pins.
var ErrFingerprint = errors.New("pki: server's CA does not match the join token")

// PinnedClientTLS is the joiner's config: it has no CA yet, only the
// fingerprint from its token. The server's chain must hold a self-signed CA
// with that fingerprint and the leaf must verify against that CA alone, for
// server use under InternalServerName. The check runs inside the handshake,
// so on a mismatch nothing (the token least of all) is sent.
func PinnedClientTLS(fp [32]byte) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: InternalServerName, // SNI: get the node certificate, not the API's
		// Chain verification is not skipped: VerifyConnection does it against
		// the pinned CA instead of the system roots.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPinned(fp, cs.PeerCertificates)
		},
	}
}

func verifyPinned(fp [32]byte, certs []*x509.Certificate) error {
	if len(certs) == 0 {
		return fmt.Errorf("%w: expected %x, got no certificate", ErrFingerprint, fp)
	}
	var ca *x509.Certificate
	got := FingerprintOf(certs[len(certs)-1].Raw)
	for _, c := range certs {
		if !c.IsCA || c.CheckSignatureFrom(c) != nil {
			continue
		}
		got = FingerprintOf(c.Raw)
		if got == fp {
			ca = c
			break
		}
	}
	if ca == nil {
		return fmt.Errorf("%w: expected %x, got %x", ErrFingerprint, fp, got)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := certs[0].Verify(x509.VerifyOptions{
		Roots:     roots,
		DNSName:   InternalServerName,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("%w: the server's certificate does not verify against CA %x: %v", ErrFingerprint, fp, err)
	}
	return nil
}
