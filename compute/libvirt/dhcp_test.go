package libvirt

import (
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	metadatasvc "github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
)

// TestReservationName: the DHCP reservation carries the hostname the
// metadata service and the config drive show (one rule, metadata's), and a
// name another address holds already is made distinct with the server's ID,
// still one DNS label of at most 63 characters.
func TestReservationName(t *testing.T) {
	const id = "ABCDEF12-0000-4000-8000-000000000001"
	addr := fsm.Address{Network: "shoal", IP: "10.0.0.5", MAC: "fa:16:3e:00:00:05"}
	long := strings.Repeat("x", 60) + " tail"
	for _, tc := range []struct {
		name, server string
		hosts        []libvirtxml.NetworkDHCPHost
		want         string
	}{
		{name: "plain", server: "Web Server_1.example", want: "web-server-1-example"},
		{name: "nothing left: Nova's fallback", server: "☃", want: "Server-" + id},
		{name: "another address holds the name", server: "web",
			hosts: []libvirtxml.NetworkDHCPHost{{MAC: "fa:16:3e:00:00:09", IP: "10.0.0.9", Name: "web"}},
			want:  "web-abcdef12"},
		{name: "its own stale reservation does not count", server: "web",
			hosts: []libvirtxml.NetworkDHCPHost{{MAC: "FA:16:3E:00:00:05", IP: "10.0.0.7", Name: "web"},
				{MAC: "fa:16:3e:00:00:08", IP: "10.0.0.5", Name: "web"}},
			want: "web"},
		{name: "distinct and still 63 characters", server: long,
			hosts: []libvirtxml.NetworkDHCPHost{{MAC: "fa:16:3e:00:00:09", IP: "10.0.0.9", Name: metadatasvc.Hostname(long, "")}},
			want:  strings.Repeat("x", 54) + "-abcdef12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := compute.InstanceSpec{ID: id, Name: tc.server, Addresses: []fsm.Address{addr}}
			got := reservationName(spec, addr, tc.hosts)
			if got != tc.want {
				t.Errorf("reservationName = %q, want %q", got, tc.want)
			}
			if len(got) > 63 || strings.HasPrefix(got, "-") || strings.HasSuffix(got, "-") {
				t.Errorf("%q is not a DNS label", got)
			}
			if tc.hosts == nil {
				if md := metadatasvc.FromFSM(fsm.NetworkView{}, fsm.Instance{ID: id, Name: tc.server}); md.Hostname != got {
					t.Errorf("DHCP says %q, the metadata service %q", got, md.Hostname)
				}
			}
		})
	}
}
