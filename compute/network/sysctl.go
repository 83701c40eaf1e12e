package network

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultProcSys is where the kernel's settings are.
const DefaultProcSys = "/proc/sys"

// BridgeFilterSysctl exists (under /proc/sys) only while br_netfilter is
// loaded: without it, bridged traffic between two guests of one host
// bypasses the security groups, silently.
const BridgeFilterSysctl = "net/bridge/bridge-nf-call-iptables"

// ErrNoBridgeFilter means br_netfilter is not loaded (a module on Debian's
// kernels); the message says how to load it now and at every boot. The
// agent's preflight refuses to start with the libvirt driver without it.
var ErrNoBridgeFilter = errors.New("network: the br_netfilter kernel module is not loaded, so security groups would not apply between guests of one host: " +
	"load it with `modprobe br_netfilter`, and at every boot with `echo br_netfilter > /etc/modules-load.d/shoal.conf`")

type sysctl struct {
	path  string // under /proc/sys
	value string
	// optional settings wait for their object (the bridge's neigh
	// settings exist only once libvirt made the bridge).
	optional bool
}

// sysctls are the settings the routed network needs, in its namespace:
// forwarding (the host routes between its bridge and its peers), proxied
// ARP answers at once (the default 0.8 s random delay would stall a guest's
// first packet to a remote instance), and bridged packets through the inet
// tables (the security groups see guest-to-guest traffic on one host).
func sysctls(bridge string) []sysctl {
	s := []sysctl{{path: "net/ipv4/ip_forward", value: "1"}}
	if bridge != "" {
		s = append(s, sysctl{path: filepath.Join("net/ipv4/neigh", bridge, "proxy_delay"), value: "0", optional: true})
	}
	return append(s, sysctl{path: BridgeFilterSysctl, value: "1"})
}

// ensureSysctls sets the sysctls under root that differ and returns what
// it changed. It reads before it writes: writing ip_forward also resets
// every interface's forwarding setting, so a pass that finds it right must
// not write it again.
func ensureSysctls(root, bridge string) ([]string, error) {
	var changed []string
	var errs []error
	for _, s := range sysctls(bridge) {
		p := filepath.Join(root, s.path)
		b, err := os.ReadFile(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && s.optional:
			continue
		case errors.Is(err, fs.ErrNotExist) && s.path == BridgeFilterSysctl:
			errs = append(errs, ErrNoBridgeFilter)
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("sysctl %s: %w", s.path, err))
			continue
		}
		if string(bytes.TrimSpace(b)) == s.value {
			continue
		}
		if err := os.WriteFile(p, []byte(s.value+"\n"), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("sysctl %s: %w", s.path, err))
			continue
		}
		changed = append(changed, s.path+"="+s.value)
	}
	return changed, errors.Join(errs...)
}
