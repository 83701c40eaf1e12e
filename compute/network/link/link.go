package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
)

// Protocol marks the routes shoal owns (rtnetlink route protocol 250, which
// iproute2 leaves unassigned): a route of another protocol is never touched.
const Protocol netlink.RouteProtocol = 250

// ErrNoUplink means the uplink is not there (or not known yet): floating IPs
// and external routes wait for it.
var ErrNoUplink = errors.New("link: no uplink")

// Route is a host route to a remote instance's fixed IP via the underlay
// address of the host that runs it.
type Route struct {
	Dst netip.Addr
	Via netip.Addr
}

func (r Route) String() string { return r.Dst.String() + "/32 via " + r.Via.String() }

// Desired is what this host's kernel should hold, as the plan computed it.
// Lists are sets: order does not matter and duplicates count once.
type Desired struct {
	// Bridge is the tenant bridge, where the proxy neighbours live. While it
	// does not exist (libvirt creates it with the first guest) there is
	// nothing to proxy for.
	Bridge string
	// Uplink is the interface floating IPs and external routes go on; ""
	// when there is none (they are then not programmed).
	Uplink         string
	Routes         []Route
	ProxyNeigh     []netip.Addr
	FloatingAddrs  []netip.Addr
	ExternalRoutes []netip.Prefix // on-link routes on the uplink
}

// DefaultAnnounce is when a floating IP's gratuitous ARPs go out after it
// arrives: at once, and twice more in case the first one was lost.
var DefaultAnnounce = []time.Duration{0, 200 * time.Millisecond, time.Second}

// Config configures a Link.
type Config struct {
	// Announce are the offsets of a floating IP's gratuitous ARPs from its
	// arrival; default DefaultAnnounce.
	Announce []time.Duration
	// StateFile records the floating IPs this node put on an interface
	// (see the constant StateFile); empty: they are remembered in memory
	// only, and a restarted process no longer knows them.
	StateFile string
	Logger    *slog.Logger
}

// Link applies Desired states. It records the floating IPs it adds (its
// StateFile), withdraws only those, and owns the goroutines that announce
// them.
type Link struct {
	announce  []time.Duration
	stateFile string
	lockWait  time.Duration // lockWait, shorter in tests
	log       *slog.Logger

	mu         sync.Mutex
	owned      owned                        // the record, as last read or written
	announcing map[netip.Addr]*announcement // pending gratuitous ARPs, by floating IP
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// New returns a Link; Close ends its announcements.
func New(cfg Config) *Link {
	if cfg.Announce == nil {
		cfg.Announce = DefaultAnnounce
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Link{announce: cfg.Announce, stateFile: cfg.StateFile, lockWait: lockWait, log: cfg.Logger.With("component", "network"),
		owned: owned{}, announcing: map[netip.Addr]*announcement{}, ctx: ctx, cancel: cancel}
}

// Close stops pending announcements and waits for their goroutines.
func (l *Link) Close() {
	l.cancel()
	l.wg.Wait()
}

// Apply is Withdraw then Program: what a caller without a filter to change
// in between runs.
func (l *Link) Apply(d Desired) ([]string, error) {
	w, werr := l.Withdraw(d)
	p, perr := l.Program(d)
	return append(w, p...), errors.Join(werr, perr)
}

// changes collects what one step changed and what failed; a failure of one
// object does not stop the others.
type changes struct {
	done []string
	errs []error
}

func (c *changes) note(what string, err error) {
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", what, err))
		return
	}
	c.done = append(c.done, what)
}

func (c *changes) fail(err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

func (c *changes) result() ([]string, error) { return c.done, errors.Join(c.errs...) }

// Withdraw removes what this host holds and d does not want: stale routes,
// proxy neighbours and floating IPs (their pending announcements stop). A
// caller runs it before the filter drops their NAT, so a floating IP never
// reaches the host without being translated. The floating IPs it withdraws
// are the recorded ones only (StateFile), wherever they are: never one of
// another node sharing this namespace. It returns what it changed.
func (l *Link) Withdraw(d Desired) ([]string, error) {
	var c changes
	uplink, _ := linkByName(d.Uplink)
	routes, err := listRoutes()
	c.fail(err)
	want := wantedRoutes(d, uplink)
	for _, r := range routes {
		if r.Protocol != Protocol {
			continue
		}
		if _, ok := want[dstOf(r)]; !ok {
			c.note("-route "+describe(r, uplink), netlink.RouteDel(&r))
		}
	}
	if br, err := linkByName(d.Bridge); err == nil {
		have, err := proxies(br)
		c.fail(err)
		for _, ip := range minus(have, d.ProxyNeigh) {
			c.note("-proxy "+ip.String()+" on "+d.Bridge, netlink.NeighDel(proxyNeigh(br, ip)))
		}
	}
	l.withdrawFloating(&c, false, func(ip netip.Addr, dev string) bool {
		return dev == d.Uplink && slices.Contains(d.FloatingAddrs, ip)
	})
	return c.result()
}

// Program adds what d wants and this host lacks: routes (a route to the same
// destination of another protocol is someone else's and left alone), proxy
// neighbours, floating IPs (each announced by gratuitous ARP as it arrives)
// and external routes. A caller runs it after the filter has the floating
// IPs' NAT. Every floating IP d wants is recorded before any is added: one
// that cannot be recorded is not added. It returns what it changed.
func (l *Link) Program(d Desired) ([]string, error) {
	var c changes
	uplink, uplinkErr := linkByName(d.Uplink)
	if d.Uplink != "" && uplinkErr != nil {
		c.fail(fmt.Errorf("%w %s: %w", ErrNoUplink, d.Uplink, uplinkErr))
	}
	routes, err := listRoutes()
	c.fail(err)
	ours := map[netip.Prefix]netlink.Route{}
	theirs := map[netip.Prefix]bool{}
	for _, r := range routes {
		if r.Protocol == Protocol {
			ours[dstOf(r)] = r
		} else {
			theirs[dstOf(r)] = true
		}
	}
	want := wantedRoutes(d, uplink)
	for _, dst := range sortedKeys(want) {
		r := want[dst]
		if theirs[dst] {
			continue
		}
		if have, ok := ours[dst]; ok && sameRoute(have, r) {
			continue
		}
		c.note("+route "+describe(r, uplink), netlink.RouteReplace(&r))
	}
	if br, err := linkByName(d.Bridge); err == nil {
		have, err := proxies(br)
		c.fail(err)
		for _, ip := range minus(d.ProxyNeigh, have) {
			c.note("+proxy "+ip.String()+" on "+d.Bridge, netlink.NeighSet(proxyNeigh(br, ip)))
		}
	}
	if uplinkErr == nil && len(d.FloatingAddrs) > 0 {
		for _, ip := range l.addFloating(&c, uplink, d) {
			l.startAnnouncing(d.Uplink, ip)
		}
	}
	return c.result()
}

// addFloating records every floating IP d wants, then adds those the
// uplink lacks, under the record's lock; it returns those it added. An
// address that is already on the uplink is recorded too: it is one this
// node wants, so it is its own to withdraw later (an agent that lost its
// record adopts what it programs).
func (l *Link) addFloating(c *changes, uplink netlink.Link, d Desired) []netip.Addr {
	have, err := addrsOn(uplink)
	if err != nil {
		c.fail(err)
		return nil
	}
	unlock, err := l.lockRecord(false)
	if err != nil {
		c.fail(err)
		return nil
	}
	defer unlock()
	o, err := l.loadOwned()
	if err != nil {
		c.fail(err)
		return nil
	}
	next := maps.Clone(o)
	for _, ip := range d.FloatingAddrs {
		next[ip] = d.Uplink
	}
	if !maps.Equal(next, o) {
		if err := l.saveOwned(next); err != nil {
			c.fail(err)
			return nil
		}
	}
	var added []netip.Addr
	for _, ip := range minus(d.FloatingAddrs, have) {
		err := netlink.AddrReplace(uplink, hostAddr(ip))
		if err == nil {
			added = append(added, ip)
		}
		c.note("+floating "+ip.String()+" on "+d.Uplink, err)
	}
	return added
}
