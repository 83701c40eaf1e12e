package nft

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Expression primitives: each returns the expressions of one match or
// action, written the way `nft` itself compiles them (`nft --debug=netlink`).
// Everything uses register 1; a verdict map writes the verdict register.

const (
	reg1        = 1
	reg2        = 2
	regVerdict  = 0
	ifnameBytes = 16 // IFNAMSIZ: meta iifname/oifname load this many bytes

	// Offsets in the headers shoal looks at.
	offIPProto = 9
	offIPSaddr = 12
	offIPDaddr = 16
	offEthSrc  = 6
	offEthType = 12
	offARPSha  = 8
	offARPSpa  = 14
	offTHSport = 0
	offTHDport = 2
)

func load(base expr.PayloadBase, off, n uint32) expr.Any {
	return &expr.Payload{DestRegister: reg1, Base: base, Offset: off, Len: n}
}

func cmp(op expr.CmpOp, data []byte) expr.Any {
	return &expr.Cmp{Op: op, Register: reg1, Data: data}
}

func meta(key expr.MetaKey) expr.Any { return &expr.Meta{Key: key, Register: reg1} }

// nfprotoIPv4 guards an inet-family rule that reads the IPv4 header (the
// same hook sees IPv6, where those offsets mean something else).
func nfprotoIPv4() []expr.Any {
	return []expr.Any{meta(expr.MetaKeyNFPROTO), cmp(expr.CmpOpEq, []byte{unix.NFPROTO_IPV4})}
}

// l4proto matches the transport protocol (meta l4proto, any family).
func l4proto(p byte) []expr.Any {
	return []expr.Any{meta(expr.MetaKeyL4PROTO), cmp(expr.CmpOpEq, []byte{p})}
}

// ipAddr matches ip saddr/daddr (off) against a prefix; a /0 matches all
// and gives no expression.
func ipPrefix(off uint32, p netip.Prefix, op expr.CmpOp) []expr.Any {
	p = p.Masked()
	addr := p.Addr().AsSlice()
	switch p.Bits() {
	case 0:
		return nil
	case 32:
		return []expr.Any{load(expr.PayloadBaseNetworkHeader, off, 4), cmp(op, addr)}
	}
	mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
	return []expr.Any{
		load(expr.PayloadBaseNetworkHeader, off, 4),
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
		cmp(op, addr),
	}
}

func ipAddr(off uint32, a netip.Addr, op expr.CmpOp) []expr.Any {
	return ipPrefix(off, netip.PrefixFrom(a, 32), op)
}

// inSet matches ip saddr/daddr (off) against a named set.
func inSet(off uint32, name string) []expr.Any {
	return []expr.Any{
		load(expr.PayloadBaseNetworkHeader, off, 4),
		&expr.Lookup{SourceRegister: reg1, SetName: name},
	}
}

// vmap looks the loaded key up in a verdict map and takes its verdict.
func vmap(name string) expr.Any {
	return &expr.Lookup{SourceRegister: reg1, DestRegister: regVerdict, IsDestRegSet: true, SetName: name}
}

// thPorts matches a transport port (off: sport or dport) in [lo, hi].
func thPorts(off uint32, lo, hi uint16) []expr.Any {
	ld := load(expr.PayloadBaseTransportHeader, off, 2)
	if lo == hi {
		return []expr.Any{ld, cmp(expr.CmpOpEq, binaryutil.BigEndian.PutUint16(lo))}
	}
	return []expr.Any{ld, &expr.Range{Op: expr.CmpOpEq, Register: reg1,
		FromData: binaryutil.BigEndian.PutUint16(lo), ToData: binaryutil.BigEndian.PutUint16(hi)}}
}

// thByte matches one byte of the transport header (icmp type or code).
func thByte(off uint32, v byte) []expr.Any {
	return []expr.Any{load(expr.PayloadBaseTransportHeader, off, 1), cmp(expr.CmpOpEq, []byte{v})}
}

// ctState matches when the connection's state has any of bits.
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: reg1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		cmp(expr.CmpOpNeq, make([]byte, 4)),
	}
}

// ctStatusDNAT is conntrack's IPS_DST_NAT: the connection's destination
// was translated.
const ctStatusDNAT = 1 << 5

// ctStatus matches when the connection's status has any of bits.
func ctStatus(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: reg1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		cmp(expr.CmpOpNeq, make([]byte, 4)),
	}
}

// ifname pads a link name the way meta iifname/oifname loads it.
func ifname(name string) []byte {
	b := make([]byte, ifnameBytes)
	copy(b, name)
	return b
}

func verdict(k expr.VerdictKind) expr.Any { return &expr.Verdict{Kind: k} }

func accept() expr.Any { return verdict(expr.VerdictAccept) }
func drop() expr.Any   { return verdict(expr.VerdictDrop) }
func ret() expr.Any    { return verdict(expr.VerdictReturn) }

// cat joins expression groups into one rule body.
func cat(groups ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func one(e ...expr.Any) []expr.Any { return e }
