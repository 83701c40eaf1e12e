package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/network"
)

// The preflight checks what would otherwise fail later and over and over
// (every spawn "Permission denied", a listener on an address this host does
// not have), and says in one line how to fix it. Its checks are pure
// functions over Host, so they are tested without root or libvirt.

// ErrPreflight marks every preflight failure.
var ErrPreflight = errors.New("preflight")

// qemuConfPath is where libvirt reads the user QEMU runs as.
const qemuConfPath = "/etc/libvirt/qemu.conf"

// debianQEMUUser is QEMU's user when qemu.conf names none and does not show
// its packaged default either.
const debianQEMUUser = "libvirt-qemu"

// Host answers the preflight's questions about this machine. Zero fields are
// the real machine's.
type Host struct {
	InterfaceAddrs func() ([]net.Addr, error)
	Stat           func(path string) (DirInfo, error)
	ReadFile       func(path string) ([]byte, error)
	// LookupUser and LookupGroup take names as qemu.conf writes them: a
	// name, a number, or +number for a numeric ID.
	LookupUser  func(spec string) (Account, error)
	LookupGroup func(spec string) (int, error)
	Geteuid     func() int
}

// DirInfo is what the preflight needs of a directory.
type DirInfo struct {
	Mode     fs.FileMode
	UID, GID int
}

// Account is a user and every group its processes run with.
type Account struct {
	Name string
	UID  int
	GIDs []int
}

func (h Host) withDefaults() Host {
	if h.InterfaceAddrs == nil {
		h.InterfaceAddrs = net.InterfaceAddrs
	}
	if h.Stat == nil {
		h.Stat = statDir
	}
	if h.ReadFile == nil {
		h.ReadFile = os.ReadFile
	}
	if h.LookupUser == nil {
		h.LookupUser = lookupUser
	}
	if h.LookupGroup == nil {
		h.LookupGroup = lookupGroup
	}
	if h.Geteuid == nil {
		h.Geteuid = os.Geteuid
	}
	return h
}

// Preflight checks that this host can run the agent of cfg: the bind
// address is one of the host's; with the libvirt driver, br_netfilter is
// loaded (the network reconciler's security groups need it); and, with
// libvirt's system daemon, QEMU's user can reach the data dir and the
// instances dir. That libvirtd answers is checked when New connects to it.
// It changes nothing.
func Preflight(cfg Config, host Host) error {
	cfg = cfg.WithDefaults()
	host = host.withDefaults()
	addrs, err := host.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("%w: listing this host's addresses: %v", ErrPreflight, err)
	}
	if err := checkBind(cfg.BindAddr, addrs); err != nil {
		return err
	}
	if cfg.Driver != DriverLibvirt {
		return nil
	}
	if err := checkBridgeFilter(host); err != nil {
		return err
	}
	if cfg.LibvirtURI != libvirt.DefaultURI {
		return nil // QEMU runs as the agent's own user, or not at all
	}
	qemu, known, err := qemuAccount(host)
	if err != nil || !known {
		return err
	}
	lc := cfg.libvirtConfig().WithDefaults()
	euid := host.Geteuid()
	if err := checkReachable("data dir", lc.DataDir, lc.DataDir, qemu, euid, host.Stat); err != nil {
		return err
	}
	return checkReachable("instances dir", lc.InstancesDir, lc.DataDir, qemu, euid, host.Stat)
}

// checkBind reports a bind address this host does not have. The wildcard
// addresses are always fine, and so is any loopback address inside a
// loopback network the host has (Linux answers on all of 127.0.0.0/8).
func checkBind(bind string, addrs []net.Addr) error {
	ip := net.ParseIP(bind)
	if ip == nil || ip.IsUnspecified() {
		return nil // Validate reports what is not an IP
	}
	var have []string
	for _, a := range addrs {
		var n *net.IPNet
		switch v := a.(type) {
		case *net.IPNet:
			n = v
		case *net.IPAddr:
			n = &net.IPNet{IP: v.IP, Mask: net.CIDRMask(8*len(v.IP), 8*len(v.IP))}
		default:
			continue
		}
		if n.IP.Equal(ip) || (ip.IsLoopback() && n.IP.IsLoopback() && n.Contains(ip)) {
			return nil
		}
		have = append(have, n.IP.String())
	}
	return fmt.Errorf("%w: bind address %s is not an address of this host (it has %s): use one of those with --bind, or --bind 0.0.0.0 with --advertise",
		ErrPreflight, bind, strings.Join(have, ", "))
}

// checkBridgeFilter reports a missing br_netfilter, which the network
// reconciler would otherwise only log while guests of one host talk
// unfiltered. Only its absence is refused: a sysctl that cannot be read for
// another reason is the reconciler's to report.
func checkBridgeFilter(host Host) error {
	_, err := host.ReadFile(filepath.Join(network.DefaultProcSys, network.BridgeFilterSysctl))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %w", ErrPreflight, network.ErrNoBridgeFilter)
	}
	return nil
}

// checkReachable reports the directories on the way to dir that QEMU's user
// cannot pass through. The data dir and what is below it are left out when
// this process can change them: the libvirt driver makes them searchable
// itself. Directories that do not exist yet are created searchable.
func checkReachable(what, dir, dataDir string, qemu Account, euid int, stat func(string) (DirInfo, error)) error {
	var blocked []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		info, err := stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return fmt.Errorf("%w: %s %s: %v", ErrPreflight, what, dir, err)
		case within(p, dataDir) && (euid == 0 || info.UID == euid):
		case !searchable(info, qemu):
			blocked = append(blocked, p)
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	if len(blocked) == 0 {
		return nil
	}
	slices.Reverse(blocked) // top down, the order to fix them in
	verb := "is"
	if len(blocked) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%w: %s %s is not reachable by %s (QEMU's user): %s %s not searchable by it; chmod o+x %s, or use a --data-dir under /var/lib",
		ErrPreflight, what, dir, qemu.Name, strings.Join(blocked, " and "), verb, strings.Join(blocked, " "))
}

// searchable reports whether a process of acct may pass through a directory:
// the owner's, the group's or the others' x bit, whichever class it is in.
func searchable(d DirInfo, acct Account) bool {
	switch {
	case acct.UID == 0:
		return true
	case d.UID == acct.UID:
		return d.Mode&0o100 != 0
	case slices.Contains(acct.GIDs, d.GID):
		return d.Mode&0o010 != 0
	}
	return d.Mode&0o001 != 0
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

var (
	confUser         = regexp.MustCompile(`(?m)^\s*user\s*=\s*"([^"]*)"`)
	confGroup        = regexp.MustCompile(`(?m)^\s*group\s*=\s*"([^"]*)"`)
	confDefaultUser  = regexp.MustCompile(`(?m)^#user\s*=\s*"([^"]*)"`)
	confDefaultGroup = regexp.MustCompile(`(?m)^#group\s*=\s*"([^"]*)"`)
)

// qemuAccount is the user and groups libvirt runs QEMU as: qemu.conf's
// user and group, else the packaged defaults its comments show (#user =
// "libvirt-qemu" on Debian). known is false when that cannot be told (no
// qemu.conf setting and no such user here): the check is then skipped
// rather than guessed.
func qemuAccount(host Host) (acct Account, known bool, err error) {
	conf, _ := host.ReadFile(qemuConfPath) // unreadable: the defaults
	name, explicit := confSetting(conf, confUser, confDefaultUser, debianQEMUUser)
	acct, err = host.LookupUser(name)
	switch {
	case err != nil && explicit:
		return Account{}, false, fmt.Errorf("%w: QEMU's user %q (user = in %s) is not a user of this host: fix that line",
			ErrPreflight, name, qemuConfPath)
	case err != nil:
		return Account{}, false, nil
	}
	if acct.Name == "" {
		acct.Name = name
	}
	if group, set := confSetting(conf, confGroup, confDefaultGroup, ""); group != "" {
		gid, err := host.LookupGroup(group)
		switch {
		case err == nil:
			acct.GIDs = append(acct.GIDs, gid)
		case set:
			return Account{}, false, fmt.Errorf("%w: QEMU's group %q (group = in %s) is not a group of this host: fix that line",
				ErrPreflight, group, qemuConfPath)
		}
	}
	return acct, true, nil
}

// confSetting returns the value set in conf, else the commented default,
// else fallback; set tells whether it was set.
func confSetting(conf []byte, setting, commented *regexp.Regexp, fallback string) (value string, set bool) {
	if m := setting.FindSubmatch(conf); m != nil {
		return string(m[1]), true
	}
	if m := commented.FindSubmatch(conf); m != nil {
		return string(m[1]), false
	}
	return fallback, false
}

// libvirtPreflight marks a failure to reach libvirtd as a preflight error
// (its message already says how to start it); others pass as they are.
func libvirtPreflight(err error) error {
	if errors.Is(err, libvirt.ErrNotConnected) {
		return fmt.Errorf("%w: %w", ErrPreflight, err)
	}
	return err
}

func statDir(path string) (DirInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return DirInfo{}, err
	}
	d := DirInfo{Mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		d.UID, d.GID = int(st.Uid), int(st.Gid)
	}
	return d, nil
}

// lookupUser finds a user as qemu.conf names it.
func lookupUser(spec string) (Account, error) {
	var (
		u   *user.User
		err error
	)
	if id, ok := strings.CutPrefix(spec, "+"); ok {
		if u, err = user.LookupId(id); err != nil {
			if uid, convErr := strconv.Atoi(id); convErr == nil {
				return Account{Name: spec, UID: uid}, nil // a bare uid runs all the same
			}
			return Account{}, err
		}
	} else if u, err = user.Lookup(spec); err != nil {
		if _, convErr := strconv.Atoi(spec); convErr != nil {
			return Account{}, err
		}
		if u, err = user.LookupId(spec); err != nil {
			return Account{}, err
		}
	}
	acct := Account{Name: u.Username}
	if acct.UID, err = strconv.Atoi(u.Uid); err != nil {
		return Account{}, err
	}
	ids, err := u.GroupIds()
	if err != nil {
		ids = []string{u.Gid}
	}
	for _, id := range ids {
		if gid, err := strconv.Atoi(id); err == nil {
			acct.GIDs = append(acct.GIDs, gid)
		}
	}
	return acct, nil
}

// lookupGroup finds a group as qemu.conf names it.
func lookupGroup(spec string) (int, error) {
	if id, ok := strings.CutPrefix(spec, "+"); ok {
		return strconv.Atoi(id)
	}
	g, err := user.LookupGroup(spec)
	if err != nil {
		if gid, convErr := strconv.Atoi(spec); convErr == nil {
			return gid, nil
		}
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}
