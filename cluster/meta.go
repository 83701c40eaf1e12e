package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/shoal-project/shoal/fsm"
)

// metaLimit is memberlist's cap on node metadata (it panics above it).
const metaLimit = 512

// meta is the compact form of a node's gossip metadata: its addresses and its
// fsm.Inventory (capacity from its driver's fingerprint, zone and version
// from its configuration). Short keys keep the worst case well under
// metaLimit (see TestMetaSize).
type meta struct {
	ClusterID string   `json:"c,omitempty"`
	Raft      string   `json:"r"`
	HTTP      string   `json:"h"`
	Numbers   [7]int64 `json:"n"` // vcpus, vcpus free, mem, mem free, disk, disk free, instances
	Arch      string   `json:"a,omitempty"`
	HypType   string   `json:"t,omitempty"`
	HypVer    string   `json:"y,omitempty"`
	Zone      string   `json:"z,omitempty"`
	Version   string   `json:"v,omitempty"`
	Leaving   bool     `json:"l,omitempty"` // set just before a graceful leave
	Fenced    bool     `json:"f,omitempty"` // the node has no lease and runs nothing
	// Keys are the IDs of the gossip keys the node holds, the one it sends
	// under first: a key rotation waits on them.
	Keys []string `json:"k,omitempty"`
	// Serial is the node's certificate's: the leader lets into Raft only
	// a member whose certificate it recorded and has not revoked.
	Serial string `json:"s,omitempty"`
}

func newMeta(clusterID, raftAddr, httpAddr string, inv fsm.Inventory) meta {
	return meta{
		ClusterID: clusterID,
		Raft:      raftAddr,
		HTTP:      httpAddr,
		Numbers: [7]int64{int64(inv.VCPUs), int64(inv.VCPUsFree), inv.MemoryMiB, inv.MemoryFreeMiB,
			inv.DiskGiB, inv.DiskFreeGiB, int64(inv.Instances)},
		Arch:    clip(inv.Arch, 16),
		HypType: clip(inv.HypervisorType, 16),
		HypVer:  clip(inv.HypervisorVersion, maxVersionLen),
		Zone:    clip(inv.Zone, maxZoneLen),
		Version: clip(inv.AgentVersion, maxVersionLen),
	}
}

func (m meta) inventory() fsm.Inventory {
	n := m.Numbers
	return fsm.Inventory{
		VCPUs: int(n[0]), VCPUsFree: int(n[1]), MemoryMiB: n[2], MemoryFreeMiB: n[3],
		DiskGiB: n[4], DiskFreeGiB: n[5], Instances: int(n[6]),
		Arch: m.Arch, HypervisorType: m.HypType, HypervisorVersion: m.HypVer,
		Zone: m.Zone, AgentVersion: m.Version,
	}
}

// encode returns the metadata bytes, never more than limit: if the full form
// does not fit, the descriptive strings are dropped and the addresses kept.
func (m meta) encode(limit int) ([]byte, error) {
	b, err := json.Marshal(m)
	if err == nil && len(b) <= limit {
		return b, nil
	}
	m.Arch, m.HypType, m.HypVer, m.Zone, m.Version = "", "", "", "", ""
	b, err = json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("node metadata is %d bytes, over the %d-byte limit", len(b), limit)
	}
	return b, nil
}

func decodeMeta(b []byte) (meta, error) {
	var m meta
	if len(b) == 0 {
		return m, fmt.Errorf("empty node metadata")
	}
	err := json.Unmarshal(b, &m)
	return m, err
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
