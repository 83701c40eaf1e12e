package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"reflect"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/shoal-project/shoal/compute/network/link"
	"github.com/shoal-project/shoal/compute/network/nft"
	"github.com/shoal-project/shoal/fsm"
)

// State is what the reconciler reads of the replica (an *fsm.FSM).
type State interface {
	// NetworkView is one consistent read of everything the plan needs.
	NetworkView() fsm.NetworkView
	// WatchCh returns a channel closed after the next change.
	WatchCh() <-chan struct{}
}

// Dataplane is what the reconciler programs: the kernel (KernelDataplane)
// in the agent, a recorder in tests.
type Dataplane interface {
	// Uplink finds the uplink (see link.FindUplink).
	Uplink(name string, addr netip.Addr) (link.Uplink, error)
	// Sysctls sets the kernel settings the network needs (and the
	// tenant bridge's: no STP).
	Sysctls(bridge string) ([]string, error)
	// Withdraw, Filter and Program run in this order on every pass: what
	// goes away leaves the kernel before its NAT leaves the filter, and
	// what arrives gets its NAT before its address (a floating IP never
	// reaches the host untranslated).
	Withdraw(link.Desired) ([]string, error)
	Filter(nft.Ruleset) error
	Program(link.Desired) ([]string, error)
	// Close stops what the dataplane still runs (announcements).
	Close()
}

// Config configures a Reconciler.
type Config struct {
	Host string // this node's name, as instances' Host spells it
	// Address is this node's advertise address: the uplink is the
	// interface holding it, unless ExternalInterface names one.
	Address           netip.Addr
	ExternalInterface string
	// MetadataPort is this node's metadata service port on the tenant
	// gateway, where guests' 169.254.169.254:80 is DNATed; 0: none.
	MetadataPort uint16
	// Bridge names the tenant bridge (the libvirt driver's); an error
	// means there is no tenant network yet.
	Bridge func() (string, error)
	// Fenced reports whether the host must hold no floating IP (it is
	// fenced, or its lease is not valid).
	Fenced func() bool
	// Interval is the resync without any trigger (default 10s); Retry the
	// wait after a failed pass (default 1s).
	Interval time.Duration
	Retry    time.Duration
	Logger   *slog.Logger
}

// Defaults of Config.
const (
	DefaultInterval = 10 * time.Second
	DefaultRetry    = time.Second
)

// Validate reports what is missing.
func (c Config) Validate() error {
	var errs []error
	if c.Host == "" {
		errs = append(errs, errors.New("network: the reconciler needs this host's name"))
	}
	if c.Bridge == nil || c.Fenced == nil {
		errs = append(errs, errors.New("network: the reconciler needs Bridge and Fenced"))
	}
	return errors.Join(errs...)
}

// Reconciler keeps this host's data plane what the replica says: it plans
// on every change of the replica, every Interval, and when Kick is called
// (the fence changed), and applies the plan.
type Reconciler struct {
	cfg  Config
	st   State
	dp   Dataplane
	log  *slog.Logger
	kick chan struct{}

	applied       *Desired // the last plan applied without error
	lastErr       string   // the last failure logged, so a lasting one is logged once
	lastUplinkErr string
}

// New returns a Reconciler; it runs with Run.
func New(cfg Config, st State, dp Dataplane) (*Reconciler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Reconciler{cfg: cfg, st: st, dp: dp, log: cfg.Logger.With("component", "network"),
		kick: make(chan struct{}, 1)}, nil
}

// Kick asks for a pass now (the fence changed); it never blocks.
func (r *Reconciler) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// minPassGap gathers a storm of replica changes into one pass.
const minPassGap = 25 * time.Millisecond

// Run applies the plan until ctx ends, then closes the dataplane. It leaves
// what it programmed in place: an agent that restarts finds it right, and
// a host that dies is fenced by its guard.
func (r *Reconciler) Run(ctx context.Context) {
	defer r.dp.Close()
	force := true
	for {
		watch := r.st.WatchCh() // before the pass, so no change slips between
		started := time.Now()
		wait := r.cfg.Interval
		if err := r.Pass(force); err != nil {
			wait = r.cfg.Retry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-watch:
			force = false
		case <-r.kick:
			force = true
		case <-t.C:
			force = true
		}
		t.Stop()
		if gap := minPassGap - time.Since(started); gap > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(gap):
			}
		}
	}
}

// Pass plans once and applies the plan; it logs what changed and what
// failed (a failure that lasts is logged once) and returns the failure.
// Unless force, a plan equal to the last one applied without error is not
// applied again: the replica changed, but nothing of the network did. The
// periodic forced pass repairs what someone else changed on the host.
func (r *Reconciler) Pass(force bool) error {
	changed, err := r.pass(force)
	if len(changed) > 0 {
		r.log.Info("network programmed", "changes", changed)
	}
	r.logOnce(&r.lastErr, err, "network programming failed; will retry", "network programming works again")
	return err
}

// logOnce logs err when it differs from *last (Warn), its end (Info), and
// a repeat only at Debug.
func (r *Reconciler) logOnce(last *string, err error, failed, works string) {
	switch {
	case err == nil:
		if *last != "" {
			r.log.Info(works)
		}
		*last = ""
	case err.Error() != *last:
		*last = err.Error()
		r.log.Warn(failed, "err", err)
	default:
		r.log.Debug(failed, "err", err)
	}
}

func (r *Reconciler) pass(force bool) ([]string, error) {
	nv := r.st.NetworkView()
	if nv.Tenant == nil {
		return nil, nil // not bootstrapped yet: nothing to route
	}
	var errs []error
	// Without the bridge's name (libvirtd does not answer) the proxy
	// neighbours wait; floating IPs must not: a fenced host withdraws them
	// whatever else fails.
	bridge, err := r.cfg.Bridge()
	if err != nil {
		errs = append(errs, fmt.Errorf("tenant bridge: %w", err))
		bridge = ""
	}
	// No uplink is a state, not a failure: floating IPs wait for it (the
	// periodic pass looks again) and the rest goes on.
	uplink, err := r.dp.Uplink(r.cfg.ExternalInterface, r.cfg.Address)
	r.logOnce(&r.lastUplinkErr, err, "no uplink: floating IPs and NAT wait for it", "uplink found")
	// Fenced is read after the view: a fence that comes up meanwhile
	// wins, and one that goes down is seen by the pass its Kick starts.
	d := Plan(FromFSM(nv, Local{Bridge: bridge, Uplink: uplink, MetadataPort: r.cfg.MetadataPort}), r.cfg.Host, r.cfg.Fenced())
	if !force && len(errs) == 0 && r.applied != nil && reflect.DeepEqual(*r.applied, d) {
		return nil, nil
	}
	r.applied = nil
	changed, err := r.dp.Sysctls(bridge)
	errs = append(errs, err)
	c, err := r.dp.Withdraw(d.Desired)
	changed, errs = append(changed, c...), append(errs, err)
	if err := r.dp.Filter(d.Ruleset); err != nil {
		errs = append(errs, fmt.Errorf("nftables: %w", err))
	}
	c, err = r.dp.Program(d.Desired)
	changed, errs = append(changed, c...), append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return changed, err
	}
	r.applied = &d
	return changed, nil
}

// KernelDataplane programs this host's kernel: netlink, nftables and
// /proc/sys, in the network namespace of the calling thread.
type KernelDataplane struct {
	*link.Link
	// Table names this node's nftables tables (nft.TableFor the node).
	Table string
	// ProcSys is where sysctls are written (default DefaultProcSys).
	ProcSys string
}

// NewKernelDataplane returns the real dataplane of node, which records the
// floating IPs it adds in dataDir (link.StateFile). Everything it programs
// is told apart from what other nodes in the same namespace program: its
// own tables, its own recorded floating IPs.
func NewKernelDataplane(node, dataDir string, log *slog.Logger) *KernelDataplane {
	return &KernelDataplane{Link: link.New(link.Config{StateFile: stateFile(dataDir), Logger: log}),
		Table: nft.TableFor(node), ProcSys: DefaultProcSys}
}

func stateFile(dataDir string) string { return filepath.Join(dataDir, link.StateFile) }

// Uplink is link.FindUplink.
func (k *KernelDataplane) Uplink(name string, addr netip.Addr) (link.Uplink, error) {
	return link.FindUplink(name, addr)
}

// Sysctls sets the network's kernel settings, and turns STP off on the
// tenant bridge (link.EnsureNoSTP: a bridge libvirt made with STP on holds
// a live-migrated guest's new port for 2 × 2 s). A bridge not made yet
// waits, as its sysctls do.
func (k *KernelDataplane) Sysctls(bridge string) ([]string, error) {
	changed, err := ensureSysctls(k.ProcSys, bridge)
	if bridge == "" {
		return changed, err
	}
	off, serr := link.EnsureNoSTP(bridge)
	if off {
		changed = append(changed, "stp off on "+bridge)
	}
	if serr != nil && !isNotFound(serr) {
		err = errors.Join(err, serr)
	}
	return changed, err
}

// isNotFound: the bridge is not there (yet).
func isNotFound(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf)
}

// Filter is nft.Apply on this node's tables.
func (k *KernelDataplane) Filter(rs nft.Ruleset) error { return nft.Apply(k.Table, rs) }
