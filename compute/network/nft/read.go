package nft

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Shoal reads its tables itself, over one netlink socket; the library only
// writes. Its readers dump rules chain by chain (one request per port
// chain), read a verdict map's key type back as "verdict" and leave verdict
// data encoded. Only what the diff compares is decoded: names, hooks, set
// types and flags, elements, and each rule's id (its comment) and handle.

// readTable reads the table name of family back into the model (nil:
// absent), in the calling thread's network namespace.
func readTable(name string, family nftables.TableFamily) (*table, error) {
	nc, err := netlink.Dial(unix.NETLINK_NETFILTER, nil)
	if err != nil {
		return nil, fmt.Errorf("nft: netlink: %w", err)
	}
	defer nc.Close()
	d := dumper{nc: nc, family: family, table: name}
	present := false
	err = d.each(unix.NFT_MSG_GETTABLE, nil, func(ad *netlink.AttributeDecoder) {
		for ad.Next() {
			present = present || ad.Type() == unix.NFTA_TABLE_NAME && ad.String() == name
		}
	})
	if err != nil || !present {
		return nil, err
	}
	t := &table{name: name, family: family}
	rules, err := d.rules()
	if err != nil {
		return nil, err
	}
	err = d.each(unix.NFT_MSG_GETCHAIN, nil, func(ad *netlink.AttributeDecoder) {
		var c chain
		var tableName string
		var based bool
		h := hook{policy: nftables.ChainPolicyAccept}
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_CHAIN_TABLE:
				tableName = ad.String()
			case unix.NFTA_CHAIN_NAME:
				c.name = ad.String()
			case unix.NFTA_CHAIN_TYPE:
				h.typ = nftables.ChainType(ad.String())
			case unix.NFTA_CHAIN_POLICY:
				h.policy = nftables.ChainPolicy(ad.Uint32())
			case unix.NFTA_CHAIN_HOOK:
				based = true
				ad.Nested(func(hd *netlink.AttributeDecoder) error {
					for hd.Next() {
						switch hd.Type() {
						case unix.NFTA_HOOK_HOOKNUM:
							h.num = nftables.ChainHook(hd.Uint32())
						case unix.NFTA_HOOK_PRIORITY:
							h.prio = nftables.ChainPriority(int32(hd.Uint32()))
						}
					}
					return nil
				})
			}
		}
		if based {
			c.hook = &h
		}
		if tableName == name {
			t.chains = append(t.chains, c)
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range t.chains {
		t.chains[i].rules = rules[t.chains[i].name]
	}
	if t.sets, err = d.sets(); err != nil {
		return nil, err
	}
	for i := range t.sets {
		if t.sets[i].elems, err = d.elems(t.sets[i]); err != nil {
			return nil, err
		}
	}
	return t, nil
}

type dumper struct {
	nc     *netlink.Conn
	family nftables.TableFamily
	table  string
}

// each dumps msgType (filtered by attrs) and calls f with the attributes of
// every object in the reply.
func (d dumper) each(msgType uint16, attrs []netlink.Attribute, f func(*netlink.AttributeDecoder)) error {
	b, err := netlink.MarshalAttributes(attrs)
	if err != nil {
		return err
	}
	msgs, err := d.nc.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | msgType),
			Flags: netlink.Request | netlink.Dump},
		Data: append([]byte{byte(d.family), unix.NFNETLINK_V0, 0, 0}, b...), // nfgenmsg
	})
	if err != nil {
		return fmt.Errorf("nft: dump %d: %w", msgType, err)
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return fmt.Errorf("nft: dump %d: %w", msgType, err)
		}
		ad.ByteOrder = binary.BigEndian
		f(ad)
		if err := ad.Err(); err != nil {
			return fmt.Errorf("nft: dump %d: %w", msgType, err)
		}
	}
	return nil
}

func (d dumper) tableAttr(typ uint16) []netlink.Attribute {
	return []netlink.Attribute{{Type: typ, Data: []byte(d.table + "\x00")}}
}

// rules returns each chain's rules (id and handle), by chain name, from one
// dump of the table.
func (d dumper) rules() (map[string][]rule, error) {
	out := map[string][]rule{}
	err := d.each(unix.NFT_MSG_GETRULE, d.tableAttr(unix.NFTA_RULE_TABLE), func(ad *netlink.AttributeDecoder) {
		var chainName string
		var r rule
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_RULE_CHAIN:
				chainName = ad.String()
			case unix.NFTA_RULE_HANDLE:
				r.handle = ad.Uint64()
			case unix.NFTA_RULE_USERDATA:
				r.id = ruleID(ad.Bytes())
			}
		}
		out[chainName] = append(out[chainName], r)
	})
	return out, err
}

// sets returns the table's named sets, without elements. An anonymous set
// belongs to a rule and goes when its chain is flushed.
func (d dumper) sets() ([]set, error) {
	var out []set
	err := d.each(unix.NFT_MSG_GETSET, d.tableAttr(unix.NFTA_SET_TABLE), func(ad *netlink.AttributeDecoder) {
		var s set
		var keyType, keyLen, dataType, dataLen uint32
		for ad.Next() {
			switch ad.Type() {
			case unix.NFTA_SET_NAME:
				s.name = ad.String()
			case unix.NFTA_SET_FLAGS:
				s.flags = ad.Uint32()
			case unix.NFTA_SET_KEY_TYPE:
				keyType = ad.Uint32()
			case unix.NFTA_SET_KEY_LEN:
				keyLen = ad.Uint32()
			case unix.NFTA_SET_DATA_TYPE:
				dataType = ad.Uint32()
			case unix.NFTA_SET_DATA_LEN:
				dataLen = ad.Uint32()
			}
		}
		if s.flags&unix.NFT_SET_ANONYMOUS != 0 {
			return
		}
		s.key = datatype(keyType, keyLen)
		switch {
		case dataType == unix.NFT_DATA_VERDICT:
			s.verdict = true
		case s.flags&unix.NFT_SET_MAP != 0:
			s.data = datatype(dataType, dataLen)
		}
		out = append(out, s)
	})
	return out, err
}

func datatype(magic, n uint32) nftables.SetDatatype {
	t := nftables.SetDatatype{Name: fmt.Sprintf("type %d", magic), Bytes: n}
	t.SetNFTMagic(magic)
	return t
}

// elems returns the elements of s: keys, and a map's values or jumps.
func (d dumper) elems(s set) ([]elem, error) {
	var out []elem
	attrs := append(d.tableAttr(unix.NFTA_SET_ELEM_LIST_TABLE),
		netlink.Attribute{Type: unix.NFTA_SET_ELEM_LIST_SET, Data: []byte(s.name + "\x00")})
	err := d.each(unix.NFT_MSG_GETSETELEM, attrs, func(ad *netlink.AttributeDecoder) {
		for ad.Next() {
			if ad.Type() != unix.NFTA_SET_ELEM_LIST_ELEMENTS {
				continue
			}
			ad.Nested(func(list *netlink.AttributeDecoder) error {
				for list.Next() {
					var e elem
					list.Nested(func(ed *netlink.AttributeDecoder) error {
						for ed.Next() {
							switch ed.Type() {
							case unix.NFTA_SET_ELEM_KEY:
								ed.Nested(func(v *netlink.AttributeDecoder) error { e.key = dataValue(v); return nil })
							case unix.NFTA_SET_ELEM_DATA:
								ed.Nested(func(v *netlink.AttributeDecoder) error { e.val, e.jump = dataOrVerdict(v); return nil })
							}
						}
						return nil
					})
					out = append(out, e)
				}
				return nil
			})
		}
	})
	return out, err
}

func dataValue(ad *netlink.AttributeDecoder) []byte {
	for ad.Next() {
		if ad.Type() == unix.NFTA_DATA_VALUE {
			return ad.Bytes()
		}
	}
	return nil
}

// dataOrVerdict decodes an element's data: a value, or a verdict (a jump's
// chain, or a marker no desired element has for any other verdict).
func dataOrVerdict(ad *netlink.AttributeDecoder) (val []byte, jump string) {
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_DATA_VALUE:
			val = ad.Bytes()
		case unix.NFTA_DATA_VERDICT:
			var code int32
			ad.Nested(func(vd *netlink.AttributeDecoder) error {
				for vd.Next() {
					switch vd.Type() {
					case unix.NFTA_VERDICT_CODE:
						code = int32(vd.Uint32())
					case unix.NFTA_VERDICT_CHAIN:
						jump = vd.String()
					}
				}
				return nil
			})
			if code != unix.NFT_JUMP || jump == "" {
				jump = fmt.Sprintf("?verdict %d", code)
			}
		}
	}
	return val, jump
}
