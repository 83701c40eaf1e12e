package link

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
)

var broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// announcement is one floating IP's pending gratuitous ARPs.
type announcement struct{ cancel context.CancelFunc }

// GratuitousARP is the frame that tells a link ip is now at hw: an ARP
// request with sender and target both ip (RFC 5227's announcement), which
// every neighbour that has ip in its cache takes as an update.
func GratuitousARP(hw net.HardwareAddr, ip netip.Addr) (*arp.Packet, error) {
	return arp.NewPacket(arp.OperationRequest, hw, ip, make(net.HardwareAddr, len(hw)), ip)
}

// startAnnouncing sends ip's gratuitous ARPs on uplink at l.announce's
// offsets. The socket is opened here, in the caller's network namespace; the
// sends go on in a goroutine of l's, cut short by stopAnnouncing or Close. A
// failure is logged: the floating IP works anyway once peers ask for it.
func (l *Link) startAnnouncing(uplink string, ip netip.Addr) {
	ifi, err := net.InterfaceByName(uplink)
	if err != nil {
		l.log.Warn("cannot announce floating IP", "ip", ip, "uplink", uplink, "err", err)
		return
	}
	pkt, err := GratuitousARP(ifi.HardwareAddr, ip)
	if err != nil {
		l.log.Warn("cannot announce floating IP", "ip", ip, "uplink", uplink, "err", err)
		return
	}
	c, err := arp.Dial(ifi)
	if err != nil {
		l.log.Warn("cannot announce floating IP", "ip", ip, "uplink", uplink, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(l.ctx)
	a := &announcement{cancel: cancel}
	l.mu.Lock()
	if old := l.announcing[ip]; old != nil {
		old.cancel()
	}
	l.announcing[ip] = a
	l.mu.Unlock()
	l.wg.Go(func() {
		defer func() {
			_ = c.Close()
			cancel()
			l.mu.Lock()
			if l.announcing[ip] == a {
				delete(l.announcing, ip)
			}
			l.mu.Unlock()
		}()
		start := time.Now()
		for _, at := range l.announce {
			t := time.NewTimer(time.Until(start.Add(at)))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if err := c.WriteTo(pkt, broadcast); err != nil {
				l.log.Warn("gratuitous ARP not sent", "ip", ip, "uplink", uplink, "err", err)
			}
		}
	})
}

// stopAnnouncingLocked cancels ip's pending gratuitous ARPs: a floating IP
// that left this host (or a host that is fenced) announces nothing more.
// Called with l.mu held.
func (l *Link) stopAnnouncingLocked(ip netip.Addr) {
	if a := l.announcing[ip]; a != nil {
		a.cancel()
		delete(l.announcing, ip)
	}
}
