package agent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrAPICert is a refused --tls-cert/--tls-key.
var ErrAPICert = errors.New("API certificate")

// maxPEMBytes bounds a certificate or key file: a chain of a few
// certificates is a few kilobytes.
const maxPEMBytes = 1 << 20

// loadAPICert reads the operator's certificate for the API, and its key
// through readPrivate: a key others can read is refused, as the admin's
// password file is. No files: nil, the API shows the node certificate.
func loadAPICert(certFile, keyFile string) (*tls.Certificate, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAPICert, err)
	}
	keyPEM, err := readPrivate(keyFile, maxPEMBytes)
	if err != nil {
		return nil, fmt.Errorf("%w key: %w", ErrAPICert, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w %s with key %s: %w", ErrAPICert, certFile, keyFile, err)
	}
	return &cert, nil
}

// readPrivate reads up to max bytes of a file that holds a secret. It must
// be a regular file its owner's alone: one others can read leaks the
// secret, one they can write lets them choose it. Its errors name the file.
func readPrivate(file string, max int64) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err // it names the file
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", file)
	case st.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("%s has mode %v: others may read or change it; make it its owner's alone (chmod 600)",
			file, st.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return b, nil
}
