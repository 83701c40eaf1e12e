package metadata

import (
	"net"
	"net/netip"
	"strings"
)

// Instance is a server as its metadata shows it. It is a plain value:
// whoever builds it (FromFSM) decides every field, so rendering is a
// function of it alone.
type Instance struct {
	UUID             string
	Name             string // the display name
	Hostname         string // already a hostname (see Hostname)
	AvailabilityZone string
	ProjectID        string
	LaunchIndex      int
	ImageID          string // EC2's ami-id is derived from it
	Flavor           string // the flavor's name: EC2's instance-type
	// KeyName and KeyData are the keypair copied into the server when it
	// was made (Nova: deleting the keypair later changes nothing here).
	KeyName string
	KeyData string
	Meta    map[string]string // the server's metadata (properties)
	// UserData is the decoded user data; nil when the server has none
	// (user_data then answers 404), empty when it has an empty one.
	UserData       []byte
	SecurityGroups []string // names, for EC2's security-groups
	Port           Port     // the zero Port when the server has no fixed IP
	FloatingIP     netip.Addr
	// RandomSeed is meta_data.json's random_seed (Nova: 512 fresh random
	// bytes each time it is rendered). The handler draws it per request,
	// ConfigDrive once per drive; tests fix it.
	RandomSeed []byte
}

// Port is the server's port on the tenant network.
type Port struct {
	MAC       net.HardwareAddr
	IP        netip.Addr   // its fixed IP
	Network   netip.Prefix // the tenant network (its netmask)
	Gateway   netip.Addr   // its default route
	NetworkID string
	MTU       int // 0: unknown (network_data.json says null)
}

// maxHostname is the longest hostname Nova makes (dnsmasq's limit).
const maxHostname = 63

// ServerHostname is the hostname of the server id named name, wherever the
// guest may learn it: the metadata service, the config drive, and the DHCP
// reservation the libvirt driver makes (so cloud-init and dhclient agree).
// Nova's: Hostname of the name, else "Server-<uuid>".
func ServerHostname(name, id string) string { return Hostname(name, "Server-"+id) }

// Hostname is Nova's sanitize_hostname of name: at most 63 characters,
// spaces, underscores and dots become dashes, anything else but letters,
// digits and dashes goes, lower case, no leading or trailing dash; fallback
// (Nova: "Server-<uuid>") when nothing is left. One deviation: only ASCII
// letters are kept (Nova keeps Latin-1 ones, which are no hostname's and
// which dnsmasq refuses).
func Hostname(name, fallback string) string {
	var latin1 []rune // Nova drops what is not Latin-1 before truncating
	for _, r := range name {
		if r <= 0xff {
			latin1 = append(latin1, r)
		}
	}
	if len(latin1) > maxHostname {
		latin1 = latin1[:maxHostname]
	}
	var b strings.Builder
	for _, r := range latin1 {
		switch {
		case r == ' ' || r == '_' || r == '.' || r == '-':
			b.WriteByte('-')
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		}
	}
	if h := strings.Trim(b.String(), "-"); h != "" {
		return h
	}
	if len(fallback) > maxHostname {
		return fallback[:maxHostname]
	}
	return fallback
}
