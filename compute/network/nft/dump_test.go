package nft

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// dump renders expressions compactly for golden comparisons: payload loads
// as base[offset:len], data of 4 bytes as an IPv4 address, of 6 as a MAC, of
// 16 as a link name, anything else in hex. An expression kind this package
// does not build is printed in full, so nothing is hidden.
func dump(es []expr.Any) string {
	var out []string
	for _, e := range es {
		out = append(out, dumpOne(e))
	}
	return strings.Join(out, " ")
}

func dumpOne(e expr.Any) string {
	switch x := e.(type) {
	case *expr.Meta:
		names := map[expr.MetaKey]string{expr.MetaKeyNFPROTO: "nfproto", expr.MetaKeyL4PROTO: "l4proto",
			expr.MetaKeyIIFNAME: "iifname", expr.MetaKeyOIFNAME: "oifname"}
		return fmt.Sprintf("meta:%s", names[x.Key])
	case *expr.Payload:
		base := map[expr.PayloadBase]string{expr.PayloadBaseLLHeader: "ll",
			expr.PayloadBaseNetworkHeader: "nh", expr.PayloadBaseTransportHeader: "th"}[x.Base]
		return fmt.Sprintf("%s[%d:%d]", base, x.Offset, x.Len)
	case *expr.Cmp:
		op := map[expr.CmpOp]string{expr.CmpOpEq: "==", expr.CmpOpNeq: "!="}[x.Op]
		return op + " " + data(x.Data)
	case *expr.Bitwise:
		return "&" + hex.EncodeToString(x.Mask) + "^" + hex.EncodeToString(x.Xor)
	case *expr.Range:
		return "in " + hex.EncodeToString(x.FromData) + "-" + hex.EncodeToString(x.ToData)
	case *expr.Lookup:
		switch {
		case x.IsDestRegSet && x.DestRegister == regVerdict:
			return "vmap @" + x.SetName
		case x.IsDestRegSet:
			return "map @" + x.SetName
		}
		return "in @" + x.SetName
	case *expr.Ct:
		if x.Key == expr.CtKeySTATE && x.Register == reg1 {
			return "ct:state"
		}
		if x.Key == expr.CtKeySTATUS && x.Register == reg1 {
			return "ct:status"
		}
	case *expr.Immediate:
		return "imm " + data(x.Data)
	case *expr.NAT:
		kind := map[expr.NATType]string{expr.NATTypeSourceNAT: "snat", expr.NATTypeDestNAT: "dnat"}[x.Type]
		if *x == (expr.NAT{Type: x.Type, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1}) {
			return kind
		}
		if *x == (expr.NAT{Type: x.Type, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1, RegProtoMin: reg2, Specified: true}) {
			return kind + " addr:port"
		}
	case *expr.Verdict:
		switch x.Kind {
		case expr.VerdictAccept:
			return "accept"
		case expr.VerdictDrop:
			return "drop"
		case expr.VerdictReturn:
			return "return"
		}
	}
	return fmt.Sprintf("%T%+v", e, e)
}

func data(b []byte) string {
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)).String()
	case 6:
		return net.HardwareAddr(b).String()
	case 16:
		return fmt.Sprintf("%q", strings.TrimRight(string(b), "\x00"))
	}
	return hex.EncodeToString(b)
}

func dumpChain(c chain) []string {
	var out []string
	for _, r := range c.rules {
		out = append(out, dump(r.exprs))
	}
	return out
}
