package nft

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"
)

// table is one nftables table as shoal wants it, or as the kernel holds it
// (then rules carry only their id and handle).
type table struct {
	name   string // TableFor the node
	family nftables.TableFamily
	chains []chain
	sets   []set
}

type chain struct {
	name  string
	hook  *hook // nil for a regular chain (reached by jump)
	rules []rule
}

// hook makes a chain a base chain. Shoal's policy is always accept: a base
// chain must pass everything that is not a shoal port's.
type hook struct {
	num    nftables.ChainHook
	prio   nftables.ChainPriority
	typ    nftables.ChainType
	policy nftables.ChainPolicy
}

// rule carries its id, a digest of its expressions stored as the rule's
// comment, so a chain read back from the kernel is compared without
// decoding expressions (which the kernel may render differently).
type rule struct {
	exprs  []expr.Any
	id     string
	handle uint64 // read back only
}

// set is a set (data zero) or a map (data ipv4) or a verdict map.
type set struct {
	name    string
	key     nftables.SetDatatype
	data    nftables.SetDatatype
	verdict bool
	flags   uint32 // NFT_SET_*, as read back; shoal's are wantFlags
	elems   []elem
}

// elem is one element: key, and for a map its value (val) or its jump
// target (jump).
type elem struct {
	key  []byte
	val  []byte
	jump string
}

// value is what an element maps to, as a comparable string.
func (e elem) value() string {
	if e.jump != "" {
		return "jump " + e.jump
	}
	return hex.EncodeToString(e.val)
}

func (s set) isMap() bool { return s.verdict || s.data.Name != "" }

// wantFlags are the flags shoal creates s with: plain hash sets and maps,
// no intervals, timeouts or constants.
func (s set) wantFlags() uint32 {
	if s.isMap() {
		return unix.NFT_SET_MAP
	}
	return 0
}

// newRule digests exprs into the rule's id. The digest covers the whole
// netlink encoding, so any change to a rule changes its id.
func newRule(family nftables.TableFamily, exprs ...expr.Any) rule {
	h := sha256.New()
	for _, e := range exprs {
		b, err := expr.Marshal(byte(family), e)
		if err != nil {
			// Only a bug in this package's builders gets here.
			panic(fmt.Sprintf("nft: marshal %T: %v", e, err))
		}
		h.Write(b)
	}
	return rule{exprs: exprs, id: "shoal:" + hex.EncodeToString(h.Sum(nil)[:10])}
}

func (r rule) userData() []byte {
	return userdata.AppendString(nil, userdata.TypeComment, r.id)
}

// ruleID reads the comment back. It parses the TLVs itself: the library's
// reader panics on a truncated one, and a rule someone else put in shoal's
// table may carry anything.
func ruleID(ud []byte) string {
	for len(ud) >= 2 {
		typ, n := ud[0], int(ud[1])
		if len(ud) < 2+n {
			return ""
		}
		if userdata.Type(typ) == userdata.TypeComment {
			return strings.TrimSuffix(string(ud[2:2+n]), "\x00")
		}
		ud = ud[2+n:]
	}
	return ""
}
