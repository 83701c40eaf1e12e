package libvirt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/backoff"
)

// DefaultURI is the system QEMU driver on this host.
const DefaultURI = string(golibvirt.QEMUSystem)

// MetadataNamespace marks a libvirt domain as a shoal instance.
const MetadataNamespace = "https://shoal.dev/xmlns/instance/1"

// systemSocket is where the system libvirtd listens (/var/run links to /run).
const systemSocket = "/var/run/libvirt/libvirt-sock"

// ErrNotConnected means libvirtd cannot be reached right now.
var ErrNotConnected = errors.New("libvirt: not connected to libvirtd")

const (
	maxBridgeName = 15 // IFNAMSIZ - 1
	dialTimeout   = 5 * time.Second
	minBackoff    = 250 * time.Millisecond
	maxBackoff    = 10 * time.Second
)

// Defaults of the timeouts of Config left zero.
const (
	DefaultSoftRebootTimeout = 30 * time.Second
)

// Config configures the libvirt driver. URI and DataDir are enough for
// Fingerprint; the Hypervisor methods also need Node, and Define needs
// Images and Network: a method missing what it needs fails saying so.
type Config struct {
	URI     string       // qemu:///system (default) or qemu:///session
	DataDir string       // instance disks live here; its filesystem is the host's disk
	Logger  *slog.Logger // default slog.Default()

	// Node is this node's name: it is written into every domain shoal
	// defines here, and only domains carrying it are this node's.
	Node string
	// ClusterID returns the cluster's ID (empty while unknown). A domain
	// stamped with another cluster's ID is not this node's. Nil: no check.
	ClusterID func() string
	// Images gives the cached base image of an instance's disk.
	Images compute.ImageCache
	// Network returns the cluster's default network (*fsm.FSM's Network);
	// false while the cluster has none.
	Network func() (fsm.NetworkInfo, bool)
	// InstancesDir holds the instances' qcow2 overlays, as the dir storage
	// pool shoal-<Node>; default DataDir/instances.
	InstancesDir string
	// ConsoleDir holds each instance's serial console log, <uuid>.log;
	// default DataDir/console.
	ConsoleDir string
	// Bridge is the Linux bridge of the cluster network; default shbr<hash
	// of the CIDR>, so clusters with different networks share a libvirtd.
	Bridge string
	// SoftRebootTimeout is how long a guest may take to honor an ACPI
	// reboot before it is reset instead; default 30s.
	SoftRebootTimeout time.Duration

	// ConfigDrive writes the config drive ISO of instance id, built from
	// what the cluster holds now, to path: mode 0600 (user data may hold
	// secrets), whole or not at all (written beside it, then renamed, so a
	// running QEMU keeps the image it opened and the next boot reads the
	// new one), as metadata.ConfigDrive does. Define calls it for every
	// instance that wants one (InstanceSpec.ConfigDrive, or
	// ForceConfigDrive). Nil: such an instance cannot be defined here.
	ConfigDrive func(ctx context.Context, id, path string) error
	// ForceConfigDrive gives every instance a config drive, asked for or
	// not (Nova's force_config_drive).
	ForceConfigDrive bool
	// ConfigDriveDir holds the config drives, <uuid>.iso; default
	// DataDir/config-drive.
	ConfigDriveDir string
}

// WithDefaults returns c with its empty fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.URI == "" {
		c.URI = DefaultURI
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.DataDir != "" {
		if abs, err := filepath.Abs(c.DataDir); err == nil {
			c.DataDir = abs
		}
		if c.InstancesDir == "" {
			c.InstancesDir = filepath.Join(c.DataDir, "instances")
		}
		if c.ConsoleDir == "" {
			c.ConsoleDir = filepath.Join(c.DataDir, "console")
		}
		if c.ConfigDriveDir == "" {
			c.ConfigDriveDir = filepath.Join(c.DataDir, "config-drive")
		}
	}
	// libvirt needs absolute paths in pool and domain XML.
	for _, dir := range []*string{&c.InstancesDir, &c.ConsoleDir, &c.ConfigDriveDir} {
		if abs, err := filepath.Abs(*dir); *dir != "" && err == nil {
			*dir = abs
		}
	}
	if c.SoftRebootTimeout <= 0 {
		c.SoftRebootTimeout = DefaultSoftRebootTimeout
	}
	return c
}

// Validate reports a missing data dir or a URI this driver cannot use yet.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := endpoint(c.URI); err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("libvirt: data dir is required"))
	}
	if len(c.Bridge) > maxBridgeName {
		errs = append(errs, fmt.Errorf("libvirt: bridge name %q is longer than %d bytes", c.Bridge, maxBridgeName))
	}
	if strings.ContainsAny(c.Node, "/\x00") {
		errs = append(errs, fmt.Errorf("libvirt: node name %q cannot name a storage pool", c.Node))
	}
	return errors.Join(errs...)
}

// endpoint maps a libvirt URI to the unix socket to dial and the URI to open
// on the daemon: qemu:///system, qemu:///session, or either as
// qemu+unix:///system?socket=PATH (a daemon elsewhere on this machine, such
// as a lab host's in its own namespaces). Remote transports (qemu+tcp,
// qemu+ssh) come later.
func endpoint(uri string) (socket string, remote golibvirt.ConnectURI, err error) {
	if rest, ok := strings.CutPrefix(uri, "qemu+unix://"); ok {
		path, query, _ := strings.Cut(rest, "?")
		socket, remote, err = endpoint("qemu://" + path)
		if err != nil {
			return "", "", fmt.Errorf("libvirt: unsupported URI %q: %w", uri, err)
		}
		for kv := range strings.SplitSeq(query, "&") {
			if v, ok := strings.CutPrefix(kv, "socket="); ok && v != "" {
				socket = v
			} else if kv != "" {
				return "", "", fmt.Errorf("libvirt: unsupported URI %q: only the socket parameter is understood", uri)
			}
		}
		return socket, remote, nil
	}
	switch uri {
	case string(golibvirt.QEMUSystem):
		return systemSocket, golibvirt.QEMUSystem, nil
	case string(golibvirt.QEMUSession):
		// Where libvirt puts an unprivileged user's daemon socket.
		dir := os.Getenv("XDG_RUNTIME_DIR")
		if dir == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", "", fmt.Errorf("libvirt: socket for %s: %w", uri, err)
			}
			dir = filepath.Join(home, ".cache")
		}
		return filepath.Join(dir, "libvirt", "libvirt-sock"), golibvirt.QEMUSession, nil
	}
	return "", "", fmt.Errorf("libvirt: unsupported URI %q: only %s and %s (local unix socket) are supported for now",
		uri, golibvirt.QEMUSystem, golibvirt.QEMUSession)
}

// Driver is a compute.Driver backed by the local libvirtd.
type Driver struct {
	cfg    Config
	socket string
	remote golibvirt.ConnectURI
	log    *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the reconnecting goroutine

	// Event subscriptions end when their connection drops, or after Close
	// disconnected: cancelling them first would put their deregistration
	// calls in flight while the connection closes.
	evCtx    context.Context
	evCancel context.CancelFunc
	evWG     sync.WaitGroup

	mu         sync.RWMutex
	conn       *golibvirt.Libvirt // nil while reconnecting
	closed     bool
	domainType string // decided once, on first success
	machine    string // libvirt's default machine type for domainType, asked once

	setupMu sync.Mutex // one pool or network set-up at a time
	dhcpMu  sync.Mutex // one read-modify-write of DHCP reservations at a time

	events  chan string
	evMu    sync.Mutex
	owned   map[string]bool            // instance IDs known to be this node's
	reboots map[string][]chan struct{} // instance ID → soft reboots waiting for its reset

	noPostcopy sync.Map // destination host → true: post-copy refused there
}

// New connects to libvirtd and keeps the connection up until Close. It fails
// at once, with a hint on how to fix it, when libvirtd is not reachable.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	socket, remote, _ := endpoint(cfg.URI)
	d := &Driver{cfg: cfg, socket: socket, remote: remote, log: cfg.Logger,
		events: make(chan string, eventBuffer), owned: map[string]bool{}, reboots: map[string][]chan struct{}{}}
	conn, err := d.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %s at unix socket %s: %v (run scripts/setup-libvirt.sh as root to install and start libvirtd, or use --driver fake)",
			ErrNotConnected, cfg.URI, socket, err)
	}
	d.conn = conn
	d.ctx, d.cancel = context.WithCancel(context.Background())
	d.evCtx, d.evCancel = context.WithCancel(context.Background())
	d.subscribe(conn)
	d.wg.Add(1)
	go d.watch(conn)
	return d, nil
}

// dial opens a new connection; a fresh client each time, so no state of a
// dropped connection carries over.
func (d *Driver) dial(ctx context.Context) (*golibvirt.Libvirt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := dialTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	l := golibvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(d.socket), dialers.WithLocalTimeout(timeout)))
	if err := l.ConnectToURI(d.remote); err != nil {
		return nil, err
	}
	return l, nil
}

// watch waits for conn to drop, then reconnects, until Close.
func (d *Driver) watch(conn *golibvirt.Libvirt) {
	defer d.wg.Done()
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-conn.Disconnected():
		}
		d.setConn(nil)
		d.log.Warn("libvirt connection lost, reconnecting", "uri", d.cfg.URI, "socket", d.socket)
		if conn = d.reconnect(); conn == nil {
			return
		}
		d.setConn(conn)
		d.subscribe(conn)
	}
}

// reconnect dials with exponential backoff and jitter; nil means Close.
func (d *Driver) reconnect() *golibvirt.Libvirt {
	retry := backoff.Backoff{Min: minBackoff, Max: maxBackoff, Jitter: true}
	for attempt := 1; ; attempt++ {
		if !retry.Wait(d.ctx) {
			return nil
		}
		conn, err := d.dial(d.ctx)
		if err == nil {
			d.log.Info("libvirt connection restored", "uri", d.cfg.URI, "attempts", attempt)
			return conn
		}
		d.log.Debug("libvirt reconnect failed", "uri", d.cfg.URI, "attempt", attempt, "err", err)
	}
}

func (d *Driver) setConn(conn *golibvirt.Libvirt) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.conn = conn
}

// client returns the live connection, or why there is none.
func (d *Driver) client() (*golibvirt.Libvirt, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	switch {
	case d.closed:
		return nil, compute.ErrClosed
	case d.conn == nil:
		return nil, fmt.Errorf("%w: %s: reconnecting to %s", ErrNotConnected, d.cfg.URI, d.socket)
	}
	return d.conn, nil
}

// Close stops reconnecting and closes the connection. It is safe to call twice.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()

	d.cancel()
	d.wg.Wait() // after this, nothing replaces d.conn
	d.mu.Lock()
	conn := d.conn
	d.conn = nil
	d.mu.Unlock()
	var err error
	if conn != nil && conn.IsConnected() {
		err = conn.Disconnect()
	}
	d.evCancel()
	d.evWG.Wait()
	// Interrupted: libvirtd closed the connection before answering the
	// close; it is closed all the same.
	if err != nil && !errors.Is(err, golibvirt.ErrInterrupted) {
		return fmt.Errorf("libvirt: disconnect: %w", err)
	}
	return nil
}
