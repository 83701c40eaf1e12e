package link

import (
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// BridgeSTP reports whether the bridge name runs the spanning tree
// protocol (IFLA_BR_STP_STATE not 0).
func BridgeSTP(name string) (bool, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return false, err
	}
	req := nl.NewNetlinkRequest(unix.RTM_GETLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(l.Attrs().Index)
	req.AddData(msg)
	msgs, err := req.Execute(unix.NETLINK_ROUTE, unix.RTM_NEWLINK)
	if err != nil {
		return false, fmt.Errorf("link: reading bridge %s: %w", name, err)
	}
	for _, m := range msgs {
		if len(m) < unix.SizeofIfInfomsg {
			continue
		}
		if v, ok := nested(m[unix.SizeofIfInfomsg:], unix.IFLA_LINKINFO, unix.IFLA_INFO_DATA, unix.IFLA_BR_STP_STATE); ok && len(v) >= 4 {
			return native(v) != 0, nil
		}
	}
	return false, fmt.Errorf("link: %s is not a bridge", name)
}

// EnsureNoSTP turns the spanning tree off on the tenant bridge name, if it
// is on, and reports whether it changed it. With STP on, the kernel raises
// a forward delay of 0 (libvirt's) to its 2 s minimum and holds every new
// port 2 × 2 s in listening and learning, dropping its frames: a guest
// live-migrated here, whose tap joins the bridge a moment before it
// resumes, stays unreachable for ~3 s after the switch-over. The tenant
// bridge holds only guests' taps, so there is no loop for STP to break.
// A port that is already listening finishes its delay; every later one
// forwards at once.
func EnsureNoSTP(name string) (bool, error) {
	on, err := BridgeSTP(name)
	if err != nil || !on {
		return false, err
	}
	if err := setSTP(name, false); err != nil {
		return false, err
	}
	return true, nil
}

// setSTP sets the bridge name's IFLA_BR_STP_STATE.
func setSTP(name string, on bool) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	state := uint32(0)
	if on {
		state = 1
	}
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_ACK)
	msg := nl.NewIfInfomsg(unix.AF_UNSPEC)
	msg.Index = int32(l.Attrs().Index)
	req.AddData(msg)
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("bridge"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	data.AddRtAttr(nl.IFLA_BR_STP_STATE, nl.Uint32Attr(state))
	req.AddData(info)
	if _, err := req.Execute(unix.NETLINK_ROUTE, 0); err != nil {
		return fmt.Errorf("link: setting STP of %s to %v: %w", name, on, err)
	}
	return nil
}

// nested finds the attribute at path in a list of route attributes.
func nested(b []byte, path ...uint16) ([]byte, bool) {
	attrs, err := nl.ParseRouteAttr(b)
	if err != nil {
		return nil, false
	}
	for _, a := range attrs {
		if a.Attr.Type&^(unix.NLA_F_NESTED|unix.NLA_F_NET_BYTEORDER) != path[0] {
			continue
		}
		if len(path) == 1 {
			return a.Value, true
		}
		return nested(a.Value, path[1:]...)
	}
	return nil, false
}

func native(b []byte) uint32 { return nl.NativeEndian().Uint32(b[:4]) }
