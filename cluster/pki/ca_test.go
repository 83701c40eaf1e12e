package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"net"
	"regexp"
	"slices"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	ca, err := NewCA("cluster-1", now)
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || !c.MaxPathLenZero || c.CheckSignatureFrom(c) != nil {
		t.Fatalf("not a self-signed CA limited to leaves: IsCA %v MaxPathLenZero %v", c.IsCA, c.MaxPathLenZero)
	}
	if !c.NotBefore.Equal(now.Add(-time.Minute)) || !c.NotAfter.Equal(now.Add(CALifetime)) {
		t.Fatalf("validity %v..%v", c.NotBefore, c.NotAfter)
	}
	if c.Subject.CommonName != "shoal cluster CA cluster-1" {
		t.Fatalf("subject %q", c.Subject.CommonName)
	}
	if ca.Fingerprint() != FingerprintOf(c.Raw) {
		t.Fatal("Fingerprint differs from FingerprintOf(Raw)")
	}
}

func TestIssue(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	ca, err := NewCA("", now)
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	req := NodeRequest{Name: "n1", PublicKey: key.Public(), IPs: []net.IP{
		net.ParseIP("10.0.0.5"), net.ParseIP("0.0.0.0"), net.ParseIP("10.0.0.5"), net.ParseIP("fd00::5"),
	}}
	c, err := ca.Issue(req, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckSignatureFrom(ca.Cert); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.DNSNames, []string{"n1", InternalServerName}) {
		t.Errorf("DNS names %v", c.DNSNames)
	}
	var ips []string
	for _, ip := range c.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"10.0.0.5", "fd00::5", "127.0.0.1"}) {
		t.Errorf("IPs %v", ips)
	}
	if !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}) {
		t.Errorf("usages %v", c.ExtKeyUsage)
	}
	if !c.NotBefore.Equal(now.Add(-time.Minute)) || !c.NotAfter.Equal(now.Add(DefaultNodeTTL)) {
		t.Errorf("validity %v..%v", c.NotBefore, c.NotAfter)
	}
	if c.IsCA {
		t.Error("a node certificate must not be a CA")
	}
	if s := SerialOf(c); !regexp.MustCompile(`^[0-9a-f]{1,32}$`).MatchString(s) {
		t.Errorf("serial %q is not lowercase hex of at most 128 bits", s)
	}
	again, err := ca.Issue(req, now)
	if err != nil {
		t.Fatal(err)
	}
	if SerialOf(again) == SerialOf(c) {
		t.Error("two certificates share a serial")
	}

	long := req
	long.TTL = 2 * CALifetime
	if c, err := ca.Issue(long, now); err != nil || !c.NotAfter.Equal(ca.Cert.NotAfter) {
		t.Errorf("a TTL past the CA's life: %v, not after %v (CA %v)", err, c.NotAfter, ca.Cert.NotAfter)
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newTestCA(t, "")
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []NodeRequest{
		{Name: "", PublicKey: pub},
		{Name: InternalServerName, PublicKey: pub},
		{Name: "a b", PublicKey: pub},
		{Name: "a/b", PublicKey: pub},
		{Name: "é", PublicKey: pub},
		{Name: string(make([]byte, 254)), PublicKey: pub},
		{Name: "n1"},
		{Name: "n1", PublicKey: pub, TTL: -time.Hour},
		{Name: "n1", PublicKey: "not a key"},
		{Name: "n1", PublicKey: p384.Public()},
	} {
		if _, err := ca.Issue(req, time.Now()); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Issue(%q, key %T, ttl %v) = %v, want ErrBadRequest", req.Name, req.PublicKey, req.TTL, err)
		}
	}
}
