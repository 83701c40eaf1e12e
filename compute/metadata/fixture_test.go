package metadata

import (
	"bytes"
	"flag"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Fixtures: a server with everything (key, user data, properties, a
// floating IP) and a bare one (none of those).
const (
	fullUUID = "6f0d5a4e-8c1b-4b7e-9d2a-1c3e5f7a9b0d"
	bareUUID = "0b2c4d6e-1a3b-4c5d-8e9f-a0b1c2d3e4f5"
	pubKey   = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBPd8kXh7yB6cW5z3pQ4tqVb5rLk0Nn2dS1m9Wc7yJxE alice@laptop"
)

func fullInstance() Instance {
	return Instance{
		UUID: fullUUID, Name: "Web Server_1", Hostname: "web-server-1", AvailabilityZone: "nova",
		ProjectID: "p-1234", LaunchIndex: 0, ImageID: "1e2d3c4b-5a69-4788-9aab-bccddeeff001", Flavor: "m1.tiny",
		KeyName: "alice", KeyData: pubKey,
		Meta:           map[string]string{"role": "web", "owner": "alice & bob <ops>"},
		UserData:       []byte("#!/bin/sh\necho hello from user data\n"),
		SecurityGroups: []string{"default", "web"},
		Port: Port{MAC: mustMAC("fa:16:3e:12:34:56"), IP: netip.MustParseAddr("10.0.0.5"),
			Network: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"),
			NetworkID: "net-tenant"},
		FloatingIP: netip.MustParseAddr("203.0.113.7"),
		RandomSeed: bytes.Repeat([]byte{0x5a}, 16),
	}
}

func bareInstance() Instance {
	return Instance{
		UUID: bareUUID, Name: "bare", Hostname: "bare", AvailabilityZone: "zone-b", ProjectID: "p-5678",
		ImageID: "1e2d3c4b-5a69-4788-9aab-bccddeeff001", Flavor: "m1.small",
		Port: Port{MAC: mustMAC("fa:16:3e:00:00:02"), IP: netip.MustParseAddr("10.0.0.6"),
			Network: netip.MustParsePrefix("10.0.0.0/24"), Gateway: netip.MustParseAddr("10.0.0.1"),
			NetworkID: "net-tenant", MTU: 1500},
		RandomSeed: []byte{1, 2, 3},
	}
}

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// golden compares got with testdata/<name> (or rewrites it with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("golden file %s: %v (run go test -update to make it)", p, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from its golden file:\n got: %s\nwant: %s", name, got, want)
	}
}
