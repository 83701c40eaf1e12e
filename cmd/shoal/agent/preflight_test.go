package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/compute/libvirt"
)

func cidr(s string) net.Addr {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func TestCheckBind(t *testing.T) {
	host := []net.Addr{cidr("127.0.0.1/8"), cidr("::1/128"), cidr("10.0.0.1/24"), &net.IPAddr{IP: net.ParseIP("192.0.2.7")}}
	tests := []struct {
		bind string
		want string // in the error; empty: fine
	}{
		{"0.0.0.0", ""},
		{"::", ""},
		{"127.0.0.1", ""},
		{"127.0.0.2", ""}, // Linux answers on all of 127.0.0.0/8
		{"::1", ""},
		{"10.0.0.1", ""},
		{"192.0.2.7", ""},
		{"10.0.0.5", "preflight: bind address 10.0.0.5 is not an address of this host (it has 127.0.0.1, ::1, 10.0.0.1, 192.0.2.7): use one of those with --bind"},
		{"fe80::1", "fe80::1 is not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.bind, func(t *testing.T) {
			err := checkBind(tt.bind, host)
			if !matches(err, tt.want) {
				t.Fatalf("checkBind(%s) = %v, want %q", tt.bind, err, tt.want)
			}
		})
	}
}

// fakeHost is a machine made of a few directories and users.
type fakeHost struct {
	dirs    map[string]DirInfo
	users   map[string]Account
	groups  map[string]int
	conf    string // qemu.conf; empty: missing
	euid    int
	statErr map[string]error
	// noBridgeFilter: br_netfilter is not loaded (its sysctl is missing).
	noBridgeFilter bool
}

func (f fakeHost) Host() Host {
	return Host{
		InterfaceAddrs: func() ([]net.Addr, error) { return []net.Addr{cidr("127.0.0.1/8")}, nil },
		Stat: func(p string) (DirInfo, error) {
			if err := f.statErr[p]; err != nil {
				return DirInfo{}, err
			}
			if d, ok := f.dirs[p]; ok {
				return d, nil
			}
			return DirInfo{}, fs.ErrNotExist
		},
		ReadFile: func(p string) ([]byte, error) {
			switch {
			case p == "/proc/sys/net/bridge/bridge-nf-call-iptables" && !f.noBridgeFilter:
				return []byte("0\n"), nil
			case p != qemuConfPath || f.conf == "":
				return nil, fs.ErrNotExist
			}
			return []byte(f.conf), nil
		},
		LookupUser: func(spec string) (Account, error) {
			if a, ok := f.users[spec]; ok {
				return a, nil
			}
			return Account{}, fmt.Errorf("user: unknown user %s", spec)
		},
		LookupGroup: func(spec string) (int, error) {
			if g, ok := f.groups[spec]; ok {
				return g, nil
			}
			return 0, fmt.Errorf("group: unknown group %s", spec)
		},
		Geteuid: func() int { return f.euid },
	}
}

const (
	rootUID = 0
	qemuUID = 64055
	kvmGID  = 107
	qemuGID = 64055
)

// debian is a Debian host as libvirt's packages leave it.
func debian() fakeHost {
	return fakeHost{
		dirs: map[string]DirInfo{
			"/":        {Mode: fs.ModeDir | 0o755},
			"/root":    {Mode: fs.ModeDir | 0o700},
			"/var":     {Mode: fs.ModeDir | 0o755},
			"/var/lib": {Mode: fs.ModeDir | 0o755},
			"/srv":     {Mode: fs.ModeDir | 0o755},
			"/home":    {Mode: fs.ModeDir | 0o755},
		},
		users:  map[string]Account{"libvirt-qemu": {Name: "libvirt-qemu", UID: qemuUID, GIDs: []int{kvmGID, qemuGID}}, "root": {Name: "root"}},
		groups: map[string]int{"libvirt-qemu": qemuGID, "kvm": kvmGID},
		conf:   "# Debian's qemu.conf\n#       user = \"qemu\"   # A user named \"qemu\"\n#user = \"libvirt-qemu\"\n#group = \"libvirt-qemu\"\n",
	}
}

func TestPreflightDataDirReachableByQEMU(t *testing.T) {
	tests := []struct {
		name    string
		dataDir string
		change  func(*fakeHost)
		cfg     func(*Config)
		want    string // in the error; empty: fine
	}{
		{"under /var/lib", "/var/lib/shoal", nil, nil, ""},
		{"parents still to be made", "/var/lib/shoal/a/b", nil, nil, ""},
		{"under a 0700 /root", "/root/x", nil, nil,
			"preflight: data dir /root/x is not reachable by libvirt-qemu (QEMU's user): /root is not searchable by it; chmod o+x /root, or use a --data-dir under /var/lib"},
		{"two closed parents, named top down", "/home/u/shoal", func(h *fakeHost) {
			h.dirs["/home"] = DirInfo{Mode: fs.ModeDir | 0o750}
			h.dirs["/home/u"] = DirInfo{Mode: fs.ModeDir | 0o700, UID: 1000}
		}, nil, "/home and /home/u are not searchable by it; chmod o+x /home /home/u"},
		{"group kvm may pass", "/srv/vm/shoal", func(h *fakeHost) {
			h.dirs["/srv/vm"] = DirInfo{Mode: fs.ModeDir | 0o710, GID: kvmGID}
		}, nil, ""},
		{"group bit missing for QEMU's group", "/srv/vm/shoal", func(h *fakeHost) {
			h.dirs["/srv/vm"] = DirInfo{Mode: fs.ModeDir | 0o700, GID: kvmGID}
		}, nil, "/srv/vm is not searchable"},
		{"qemu.conf's group counts", "/srv/vm/shoal", func(h *fakeHost) {
			h.users["libvirt-qemu"] = Account{Name: "libvirt-qemu", UID: qemuUID}
			h.dirs["/srv/vm"] = DirInfo{Mode: fs.ModeDir | 0o710, GID: qemuGID}
		}, nil, ""},
		{"owned by QEMU's user", "/srv/q/shoal", func(h *fakeHost) {
			h.dirs["/srv/q"] = DirInfo{Mode: fs.ModeDir | 0o700, UID: qemuUID}
		}, nil, ""},
		{"data dir 0700 of root: the driver opens it", "/var/lib/shoal", func(h *fakeHost) {
			h.dirs["/var/lib/shoal"] = DirInfo{Mode: fs.ModeDir | 0o700}
			h.dirs["/var/lib/shoal/instances"] = DirInfo{Mode: fs.ModeDir | 0o700}
		}, nil, ""},
		{"data dir of another user the agent cannot open", "/var/lib/shoal", func(h *fakeHost) {
			h.euid = 1000
			h.dirs["/var/lib/shoal"] = DirInfo{Mode: fs.ModeDir | 0o700, UID: 2000}
		}, nil, "data dir /var/lib/shoal is not reachable by libvirt-qemu (QEMU's user): /var/lib/shoal is not searchable"},
		{"instances dir of another user", "/var/lib/shoal", func(h *fakeHost) {
			h.euid = 1000
			h.dirs["/var/lib/shoal"] = DirInfo{Mode: fs.ModeDir | 0o711, UID: 1000}
			h.dirs["/var/lib/shoal/instances"] = DirInfo{Mode: fs.ModeDir | 0o700, UID: 2000}
		}, nil, "instances dir /var/lib/shoal/instances is not reachable"},
		{"QEMU runs as root", "/root/x", func(h *fakeHost) { h.conf = "user = \"root\"\n" }, nil, ""},
		{"QEMU runs as +0", "/root/x", func(h *fakeHost) {
			h.conf = "user = \"+0\"\n"
			h.users["+0"] = Account{Name: "+0"}
		}, nil, ""},
		{"the packaged default read from the comment", "/srv/q/shoal", func(h *fakeHost) {
			h.conf = "#user = \"qemu\"\n"
			h.users["qemu"] = Account{Name: "qemu", UID: 107}
			h.dirs["/srv/q"] = DirInfo{Mode: fs.ModeDir | 0o700, UID: 107}
		}, nil, ""},
		{"no qemu.conf: Debian's user", "/root/x", func(h *fakeHost) { h.conf = "" }, nil, "by libvirt-qemu (QEMU's user)"},
		{"QEMU's user unknown here: not guessed", "/root/x", func(h *fakeHost) {
			h.conf = ""
			delete(h.users, "libvirt-qemu")
		}, nil, ""},
		{"qemu.conf names a missing user", "/var/lib/shoal", func(h *fakeHost) { h.conf = "user = \"qemu\"\n" }, nil,
			`preflight: QEMU's user "qemu" (user = in /etc/libvirt/qemu.conf) is not a user of this host`},
		{"qemu.conf names a missing group", "/var/lib/shoal", func(h *fakeHost) { h.conf = "group = \"qemu\"\n" }, nil,
			`QEMU's group "qemu" (group = in /etc/libvirt/qemu.conf) is not a group`},
		{"a parent cannot be looked at", "/srv/x/shoal", func(h *fakeHost) {
			h.statErr = map[string]error{"/srv/x": fs.ErrPermission}
		}, nil, "preflight: data dir /srv/x/shoal: permission denied"},
		{"session daemon: QEMU is the agent's user", "/root/x", nil, func(c *Config) { c.LibvirtURI = "qemu:///session" }, ""},
		{"fake driver: no QEMU", "/root/x", nil, func(c *Config) { c.Driver = DriverFake }, ""},
		{"no br_netfilter: refused, with the fix", "/var/lib/shoal", func(h *fakeHost) { h.noBridgeFilter = true }, nil,
			"preflight: network: the br_netfilter kernel module is not loaded, so security groups would not apply between guests of one host: " +
				"load it with `modprobe br_netfilter`, and at every boot with `echo br_netfilter > /etc/modules-load.d/shoal.conf`"},
		{"no br_netfilter, session daemon: refused too", "/root/x", func(h *fakeHost) { h.noBridgeFilter = true },
			func(c *Config) { c.LibvirtURI = "qemu:///session" }, "modprobe br_netfilter"},
		{"no br_netfilter, fake driver: no network reconciler, fine", "/root/x", func(h *fakeHost) { h.noBridgeFilter = true },
			func(c *Config) { c.Driver = DriverFake }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := debian()
			if tt.change != nil {
				tt.change(&h)
			}
			cfg := Config{Name: "n1", DataDir: tt.dataDir}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			err := Preflight(cfg, h.Host())
			if !matches(err, tt.want) {
				t.Fatalf("Preflight = %v\nwant %q", err, tt.want)
			}
			if err != nil && !errors.Is(err, ErrPreflight) {
				t.Errorf("%v is not an ErrPreflight", err)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("%q is more than one line", err)
			}
		})
	}
}

func TestPreflightBindComesFirst(t *testing.T) {
	h := debian().Host()
	err := Preflight(Config{Name: "n1", DataDir: "/root/x", BindAddr: "10.9.9.9"}, h)
	if !matches(err, "bind address 10.9.9.9") {
		t.Fatalf("Preflight = %v, want the bind address named", err)
	}
}

func TestLibvirtPreflight(t *testing.T) {
	down := fmt.Errorf("%w: qemu:///system at unix socket /run/libvirt/libvirt-sock: connection refused (run scripts/setup-libvirt.sh as root to install and start libvirtd, or use --driver fake)", libvirt.ErrNotConnected)
	other := errors.New("libvirt: data dir is required")
	if err := libvirtPreflight(down); !errors.Is(err, ErrPreflight) || !strings.HasPrefix(err.Error(), "preflight: libvirt: not connected") {
		t.Errorf("libvirtd down: %v", err)
	}
	if err := libvirtPreflight(other); err != other {
		t.Errorf("a configuration error became %v", err)
	}
}

// matches reports whether err is nil when want is empty, or contains want.
func matches(err error, want string) bool {
	if want == "" {
		return err == nil
	}
	return err != nil && strings.Contains(err.Error(), want)
}
