package agent

import (
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/compute/fake"
	"github.com/shoal-project/shoal/fsm"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config { return Config{Name: "n1", DataDir: "/var/lib/shoal", Driver: DriverFake} }
	tests := []struct {
		name   string
		change func(*Config)
		want   string // in the error; empty: valid
	}{
		{"fake driver, defaults", func(*Config) {}, ""},
		{"libvirt driver, defaults", func(c *Config) { c.Driver = "" }, ""},
		{"no name", func(c *Config) { c.Name = "" }, "node name"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"bind is a host name", func(c *Config) { c.BindAddr = "localhost" }, "not an IP address"},
		{"advertise the wildcard", func(c *Config) { c.BindAddr = "0.0.0.0" }, "cannot advertise"},
		{"port out of range", func(c *Config) { c.HTTPPort = 70000 }, "out of range"},
		{"lease too short", func(c *Config) { c.Lease = 50 * time.Millisecond }, "lease"},
		{"negative margin", func(c *Config) { c.LeaseMargin = -time.Second }, "margin"},
		{"bad network", func(c *Config) { c.NetworkCIDR = "10.0.0.0/33" }, "10.0.0.0/33"},
		{"negative ratio", func(c *Config) { c.Ratios = fsm.Ratios{CPU: -1} }, "cpu allocation ratio"},
		{"reserved memory", func(c *Config) { c.Reserved = compute.Reserved{MemoryMiB: 512, VCPUs: 1} }, ""},
		{"negative reserved memory", func(c *Config) { c.Reserved.MemoryMiB = -1 }, "reserved host memory"},
		{"negative reserved vCPUs", func(c *Config) { c.Reserved.VCPUs = -1 }, "reserved host vCPUs"},
		{"unknown driver", func(c *Config) { c.Driver = "xen" }, `unknown driver "xen"`},
		{"external interface", func(c *Config) { c.ExternalInterface = "eth1" }, ""},
		{"metadata port", func(c *Config) { c.MetadataPort = 8776 }, ""},
		{"metadata port out of range", func(c *Config) { c.MetadataPort = 70000 }, "metadata port 70000"},
		{"negative metadata port", func(c *Config) { c.MetadataPort = -1 }, "metadata port -1"},
		{"external interface too long", func(c *Config) { c.ExternalInterface = "a-very-long-name0" }, "not an interface name"},
		{"external interface with a slash", func(c *Config) { c.ExternalInterface = "../eth0" }, "not an interface name"},
		{"join with a token", func(c *Config) { c.Join, c.JoinToken = []string{"10.0.0.1:7946"}, "shoaljoin1_x" }, ""},
		{"bootstrap with a join token", func(c *Config) { c.Bootstrap, c.JoinToken = true, "shoaljoin1_x" }, "give one of them"},
		{"token lifetime", func(c *Config) { c.TokenTTL = time.Hour }, ""},
		{"negative token lifetime", func(c *Config) { c.TokenTTL = -time.Hour }, "token lifetime must be positive"},
		{"fake without memory", func(c *Config) { c.Fake = fake.Config{MemoryMiB: -1} }, "memory must be positive"},
		{"libvirt over ssh", func(c *Config) { c.Driver, c.LibvirtURI = DriverLibvirt, "qemu+ssh://h/system" }, "unsupported URI"},
		{"every problem at once", func(c *Config) { c.Name, c.Driver = "", "xen" }, "unknown driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.change(&c)
			err := c.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// The libvirt driver is told to force config drives when the agent is.
func TestLibvirtConfigForcesConfigDrive(t *testing.T) {
	for _, force := range []bool{false, true} {
		c := Config{Name: "n1", DataDir: "/d", ForceConfigDrive: force}.WithDefaults()
		if got := c.libvirtConfig().ForceConfigDrive; got != force {
			t.Errorf("ForceConfigDrive %v reached the driver as %v", force, got)
		}
	}
}

// The lease settings are normalised once and the node, the in-process fence
// and the fence guard are all handed the same values: a zero lease used to
// be 5s to the node but gave the guard a lead of 0.
func TestLeaseReachesNodeFenceAndGuardAlike(t *testing.T) {
	tests := []struct {
		name              string
		lease, margin     time.Duration
		wantLease, wantMg time.Duration
	}{
		{"zero takes cluster's defaults", 0, 0, cluster.DefaultLease, cluster.DefaultLeaseMargin},
		{"set values pass as they are", 2 * time.Second, time.Second, 2 * time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{Name: "n1", DataDir: "/d", Lease: tt.lease, LeaseMargin: tt.margin}.WithDefaults()
			if c.Lease != tt.wantLease || c.LeaseMargin != tt.wantMg {
				t.Fatalf("WithDefaults: lease %v margin %v, want %v %v", c.Lease, c.LeaseMargin, tt.wantLease, tt.wantMg)
			}
			node := c.clusterConfig().WithDefaults()
			if node.LeaseDuration != tt.wantLease || node.LeaseMargin != tt.wantMg {
				t.Errorf("node: lease %v margin %v, want %v %v", node.LeaseDuration, node.LeaseMargin, tt.wantLease, tt.wantMg)
			}
			guard := c.guardConfig().WithDefaults()
			if guard.Lease != tt.wantLease {
				t.Errorf("guard: lease %v, want %v", guard.Lease, tt.wantLease)
			}
			g, err := NewFenceGuard(guard, GuardDeps{Agent: nopReadCloser{}})
			if err != nil {
				t.Fatal(err)
			}
			if want := compute.FenceLead(tt.wantLease); g.lead != want || want == 0 {
				t.Errorf("guard lead %v, want %v (the fence's)", g.lead, want)
			}
			args := GuardArgs(c.guardConfig())
			if i := slices.Index(args, "--lease"); i < 0 || args[i+1] != tt.wantLease.String() {
				t.Errorf("guard command line %q does not carry --lease %v", args, tt.wantLease)
			}
		})
	}
}

type nopReadCloser struct{}

func (nopReadCloser) Read([]byte) (int, error) { return 0, io.EOF }
func (nopReadCloser) Close() error             { return nil }
