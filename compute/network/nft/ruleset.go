package nft

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrInvalid is returned by Apply for a Ruleset it cannot program: the FSM
// validates user input, so this marks a bug in the caller's plan, and
// nothing is changed rather than a guess programmed.
var ErrInvalid = errors.New("nft: invalid ruleset")

// MetadataAddr and MetadataPort are the metadata service's address and
// port as guests know it: a port may always reach it.
const (
	MetadataAddr = "169.254.169.254"
	MetadataPort = 80
)

// Ruleset is everything this host's filter and NAT must express.
type Ruleset struct {
	Tenant netip.Prefix // the tenant network (SNAT only for saddr in it, daddr outside it)
	// Gateway is the tenant gateway, every host's bridge address: the
	// source of hairpinned flows, and where this node's metadata service
	// listens. Zero: none (then neither).
	Gateway    netip.Addr
	Uplink     string     // egress interface name
	UplinkAddr netip.Addr // SNAT source for guests without a floating IP
	NAT        []NAT      // this host's floating IPs
	Ports      []Port     // this host's guest ports
	Groups     []Group    // every group a local port is in, plus every group those groups' rules name as remote group
	// MetadataPort is this node's metadata service's port on Gateway:
	// its own guests' MetadataAddr:MetadataPort is DNATed there. Zero: no
	// metadata DNAT.
	MetadataPort uint16
}

// NAT maps a floating IP to a fixed IP, both ways.
type NAT struct{ Floating, Fixed netip.Addr }

// Port is one guest interface on this host.
type Port struct {
	Tap    string // "tap"+instanceID[:11]
	MAC    net.HardwareAddr
	IP     netip.Addr // fixed IP
	Groups []string   // security group IDs
}

// Group is a security group: who is in it and what it lets through.
type Group struct {
	ID      string
	Members []netip.Addr // fixed IPs of every instance in the group, cluster-wide
	Rules   []Rule
}

// Rule lets one kind of new flow through; anything no rule names is dropped.
type Rule struct {
	Ingress     bool         // false = egress
	Protocol    string       // "" (any), "tcp", "udp", "icmp"
	PortMin     int          // tcp/udp: 0 = any port; icmp: type, -1 = any
	PortMax     int          // tcp/udp: 0 = any (else >= PortMin); icmp: code, -1 = any
	Remote      netip.Prefix // zero value = any
	RemoteGroup string       // "" = none; else group ID (its Members)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// validate checks what the rule builders rely on, so they need not.
func (rs Ruleset) validate() error {
	natted := len(rs.NAT) > 0 || rs.UplinkAddr.IsValid()
	if rs.Tenant.IsValid() && !rs.Tenant.Addr().Is4() {
		return invalid("tenant network %s is not IPv4", rs.Tenant)
	}
	if natted && !rs.Tenant.IsValid() {
		return invalid("NAT needs the tenant network")
	}
	if rs.Gateway.IsValid() && (!rs.Tenant.IsValid() || !rs.Tenant.Contains(rs.Gateway)) {
		return invalid("gateway %s is not in the tenant network %s", rs.Gateway, rs.Tenant)
	}
	if rs.UplinkAddr.IsValid() && (!rs.UplinkAddr.Is4() || rs.Uplink == "") {
		return invalid("uplink address %s needs an IPv4 address and an uplink interface", rs.UplinkAddr)
	}
	if rs.MetadataPort != 0 && !rs.Gateway.IsValid() {
		return invalid("metadata port %d needs the gateway", rs.MetadataPort)
	}
	if rs.Uplink != "" && !validIfname(rs.Uplink) {
		return invalid("uplink interface name %q", rs.Uplink)
	}
	floating, fixed := map[netip.Addr]bool{}, map[netip.Addr]bool{}
	for _, n := range rs.NAT {
		if !n.Floating.Is4() || !n.Fixed.Is4() {
			return invalid("floating IP %s → %s is not IPv4", n.Floating, n.Fixed)
		}
		if floating[n.Floating] || fixed[n.Fixed] {
			return invalid("floating IP %s → %s: each address may appear once", n.Floating, n.Fixed)
		}
		floating[n.Floating], fixed[n.Fixed] = true, true
	}
	groups := map[string]bool{}
	for _, g := range rs.Groups {
		if g.ID == "" || groups[g.ID] {
			return invalid("group ID %q is empty or repeated", g.ID)
		}
		groups[g.ID] = true
	}
	for _, g := range rs.Groups {
		for _, m := range g.Members {
			if !m.Is4() {
				return invalid("group %s: member %s is not IPv4", g.ID, m)
			}
		}
		for _, r := range g.Rules {
			if err := r.validate(groups); err != nil {
				return fmt.Errorf("group %s: %w", g.ID, err)
			}
		}
	}
	taps, ips := map[string]bool{}, map[netip.Addr]bool{}
	for _, p := range rs.Ports {
		switch {
		case !validIfname(p.Tap) || taps[p.Tap]:
			return invalid("tap name %q is not a valid interface name or is repeated", p.Tap)
		case len(p.MAC) != 6:
			return invalid("port %s: MAC %q is not 6 bytes", p.Tap, p.MAC)
		case !p.IP.Is4() || p.IP.IsUnspecified() || ips[p.IP]:
			return invalid("port %s: IP %s is not a unique IPv4 address", p.Tap, p.IP)
		}
		taps[p.Tap], ips[p.IP] = true, true
		for _, id := range p.Groups {
			if !groups[id] {
				return invalid("port %s is in group %q, which the ruleset does not carry", p.Tap, id)
			}
		}
	}
	return nil
}

func (r Rule) validate(groups map[string]bool) error {
	if r.Remote.IsValid() && !r.Remote.Addr().Is4() {
		return invalid("remote prefix %s is not IPv4", r.Remote)
	}
	if r.Remote.IsValid() && r.RemoteGroup != "" {
		return invalid("a rule names a remote prefix or a remote group, not both")
	}
	if r.RemoteGroup != "" && !groups[r.RemoteGroup] {
		return invalid("remote group %q is not in the ruleset", r.RemoteGroup)
	}
	switch r.Protocol {
	case "":
	case "tcp", "udp":
		if r.PortMin < 0 || r.PortMin > 65535 || r.PortMax < 0 || r.PortMax > 65535 ||
			(r.PortMin > 0 && r.PortMax > 0 && r.PortMax < r.PortMin) || (r.PortMin == 0 && r.PortMax != 0) {
			return invalid("%s port range %d-%d", r.Protocol, r.PortMin, r.PortMax)
		}
	case "icmp":
		if r.PortMin < -1 || r.PortMin > 255 || r.PortMax < -1 || r.PortMax > 255 || (r.PortMin == -1 && r.PortMax != -1) {
			return invalid("icmp type %d code %d", r.PortMin, r.PortMax)
		}
	default:
		return invalid("protocol %q", r.Protocol)
	}
	return nil
}

// validIfname accepts what the kernel accepts as a link name and what is
// safe inside a chain name: 1–15 bytes of letters, digits, '-', '_', '.'.
func validIfname(s string) bool {
	if len(s) == 0 || len(s) > 15 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}
