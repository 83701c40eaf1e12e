package osapi

import "testing"

func TestPortStatus(t *testing.T) {
	for server, want := range map[string]string{
		"ACTIVE": PortActive, "SHUTOFF": PortDown, "PAUSED": PortDown, "BUILD": PortDown, "ERROR": PortDown,
		"REBOOT": PortDown, "": PortDown,
	} {
		if got := PortStatus(server); got != want {
			t.Errorf("PortStatus(%q) = %q, want %q", server, got, want)
		}
	}
}
