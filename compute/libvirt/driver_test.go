package libvirt

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"system", Config{URI: "qemu:///system", DataDir: "/d"}, ""},
		{"session", Config{URI: "qemu:///session", DataDir: "/d"}, ""},
		{"default URI", Config{DataDir: "/d"}.WithDefaults(), ""},
		{"remote", Config{URI: "qemu+tcp://10.0.0.1/system", DataDir: "/d"}, "unsupported URI"},
		{"other driver", Config{URI: "lxc:///system", DataDir: "/d"}, "unsupported URI"},
		{"unix socket", Config{URI: "qemu+unix:///system?socket=/run/x.sock", DataDir: "/d"}, ""},
		{"unix bad param", Config{URI: "qemu+unix:///system?mode=legacy", DataDir: "/d"}, "socket parameter"},
		{"unix remote host", Config{URI: "qemu+unix://h/system", DataDir: "/d"}, "unsupported URI"},
		{"no data dir", Config{URI: "qemu:///system"}, "data dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	run := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", run)
	for _, tc := range []struct{ uri, socket string }{
		{"qemu:///system", "/var/run/libvirt/libvirt-sock"},
		{"qemu:///session", filepath.Join(run, "libvirt", "libvirt-sock")},
		{"qemu+unix:///system", "/var/run/libvirt/libvirt-sock"},
		{"qemu+unix:///system?socket=/proc/42/root/run/libvirt/libvirt-sock", "/proc/42/root/run/libvirt/libvirt-sock"},
	} {
		socket, remote, err := endpoint(tc.uri)
		want := strings.Replace(strings.Split(tc.uri, "?")[0], "qemu+unix:", "qemu:", 1)
		if err != nil || socket != tc.socket || string(remote) != want {
			t.Errorf("endpoint(%q) = %q, %q, %v; want %q", tc.uri, socket, remote, err, tc.socket)
		}
	}
}

// A missing libvirtd must say which socket was tried and how to get one.
func TestNewUnreachable(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // no session daemon there
	_, err := New(context.Background(), Config{URI: "qemu:///session", DataDir: t.TempDir()})
	if !errors.Is(err, ErrNotConnected) {
		t.Fatalf("New = %v, want ErrNotConnected", err)
	}
	for _, want := range []string{"libvirt-sock", "scripts/setup-libvirt.sh", "--driver fake"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
