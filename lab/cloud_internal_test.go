package lab

import (
	"encoding/base64"
	"os"
	"slices"
	"strings"
	"testing"
)

// testdata/cloud-init-console.log is the end of a real console log of the
// cloud image (scripts/cloud-image-selftest.sh --metadata), CRs kept, with
// CloudUserData's lines put in where its script ran, one with a service's
// prefix.
func TestParseCloudInit(t *testing.T) {
	real, err := os.ReadFile("testdata/cloud-init-console.log")
	if err != nil {
		t.Fatal(err)
	}
	full := string(real)
	finished := strings.Index(full, "[   83.609590]")
	configDrive := "[   84.368748] cloud-init[373]: Cloud-init v. 22.4.2 finished at Thu, 03 Dec 2026 17:40:04 +0000. " +
		"Datasource DataSourceConfigDrive [net,ver=2][source=/dev/sr0].  Up 84.21 seconds\r\n"
	const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl62aMQkyhCyybEfuXdWV5gmIBndmBav4zq1KRGFQmw shoal-cloud-selftest-key"
	const fingerprint = "8a:00:b9:ee:1e:ee:87:eb:29:c3:6b:43:d7:af:a2:63:0c:b4:ee:af:98:e0:f5:5b:5f:86:9c:69:0f:75:0d:74"
	given := CloudInit{UserData: true, Hostname: "cloud-md", InstanceID: "5c0a3b6e-3f2d-4c61-9a47-1d2e3f405162",
		AuthorizedKeys: key, Fingerprints: []string{fingerprint}}
	for _, tc := range []struct {
		name, console string
		want          CloudInit
	}{
		{"nothing", "", CloudInit{}},
		{"running", full[:strings.Index(full, "shoal-lab-cloud: hostname")], CloudInit{}},
		{"via metadata", full, with(given, "DataSourceOpenStackLocal", "83.54")},
		{"via config drive", full[:finished] + configDrive, with(given, "DataSourceConfigDrive", "84.21")},
		{"no user data", "[ 70.1] cloud-init[1]: Cloud-init v. 22.4.2 finished at Thu, 03 Dec 2026 17:40:04 +0000. " +
			"Datasource DataSourceNone.  Up 70.10 seconds\n", CloudInit{Finished: true, Datasource: "DataSourceNone", Up: "70.10"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseCloudInit(tc.console)
			if got.Finished != tc.want.Finished || got.Datasource != tc.want.Datasource || got.Up != tc.want.Up ||
				got.UserData != tc.want.UserData || got.Hostname != tc.want.Hostname || got.InstanceID != tc.want.InstanceID ||
				got.AuthorizedKeys != tc.want.AuthorizedKeys || !slices.Equal(got.Fingerprints, tc.want.Fingerprints) {
				t.Errorf("parseCloudInit =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func with(ci CloudInit, datasource, up string) CloudInit {
	ci.Finished, ci.Datasource, ci.Up = true, datasource, up
	return ci
}

// The fingerprint cloud-init printed for the key in the real console log.
func TestCloudInitFingerprint(t *testing.T) {
	got, err := CloudInitFingerprint("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJl62aMQkyhCyybEfuXdWV5gmIBndmBav4zq1KRGFQmw any comment")
	const want = "8a:00:b9:ee:1e:ee:87:eb:29:c3:6b:43:d7:af:a2:63:0c:b4:ee:af:98:e0:f5:5b:5f:86:9c:69:0f:75:0d:74"
	if err != nil || got != want {
		t.Errorf("CloudInitFingerprint = %q, %v; want %q", got, err, want)
	}
	if _, err := CloudInitFingerprint("ssh-ed25519 not-base64"); err == nil {
		t.Error("CloudInitFingerprint of a broken key: no error")
	}
}

func TestCloudUserData(t *testing.T) {
	script, err := base64.StdEncoding.DecodeString(CloudUserData())
	if err != nil {
		t.Fatal(err)
	}
	s := string(script)
	if !strings.HasPrefix(s, "#!/bin/sh\n") || !strings.Contains(s, "/home/"+CloudUser+"/.ssh/authorized_keys") ||
		!strings.HasSuffix(s, markCloud+"user-data done\" >$c\n") {
		t.Errorf("user data script:\n%s", s)
	}
}

func TestBootMetadata(t *testing.T) {
	for _, tc := range []struct {
		name, boot, host string
		ok, err          bool
	}{
		{"hostname", "shoal-tiny: booting\nshoal-tiny: metadata hostname meta-a\nshoal-tiny: listening 80 8080\n", "meta-a", true, false},
		{"unavailable", "shoal-tiny: booting\nshoal-tiny: metadata unavailable\n", "", false, false},
		{"not yet", "shoal-tiny: booting\nshoal-tiny: dhcp address 10.78.0.5\n", "", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			host, ok, err := bootMetadata(tc.boot)
			if host != tc.host || ok != tc.ok || (err != nil) != tc.err {
				t.Errorf("bootMetadata = %q, %v, %v; want %q, %v, error %v", host, ok, err, tc.host, tc.ok, tc.err)
			}
		})
	}
}

func TestParseHTTPAnswer(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      HTTPAnswer
	}{
		{"nothing", "", HTTPAnswer{}},
		{"ok", "HTTP/1.0 200 OK\nContent-Type: application/json\n\n{\"uuid\": \"x\"}\n", HTTPAnswer{200, "{\"uuid\": \"x\"}\n"}},
		{"no body", "HTTP/1.1 404 Not Found\nContent-Length: 0\n\n", HTTPAnswer{404, ""}},
		{"truncated", "HTTP/1.0", HTTPAnswer{}},
		{"not http", "hello\n\nworld", HTTPAnswer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseHTTPAnswer(tc.out); got != tc.want {
				t.Errorf("parseHTTPAnswer = %+v, want %+v", got, tc.want)
			}
		})
	}
}
