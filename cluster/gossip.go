package cluster

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// member is this node's record of another node as gossip last described it.
type member struct {
	name   string
	addr   string // gossip host:port
	status string // alive|suspect|dead|left
	meta   meta
}

func (n *Node) setupGossip() error {
	var mc *memberlist.Config
	if n.cfg.GossipProfile == "local" {
		mc = memberlist.DefaultLocalConfig()
	} else {
		mc = memberlist.DefaultLANConfig()
	}
	mc.Name = n.cfg.Name
	mc.BindAddr = n.cfg.BindAddr
	mc.BindPort = n.cfg.GossipPort
	mc.AdvertiseAddr = n.cfg.AdvertiseAddr
	mc.AdvertisePort = n.cfg.GossipPort
	mc.Logger = newStdLogger(n.log)
	// A node that comes back with a new address (a restart on other ports, a
	// moved VM) may take over its dead entry after this long.
	mc.DeadNodeReclaimTime = 2 * time.Second
	// Every gossip packet, TCP and UDP, is encrypted and authenticated with
	// the cluster's keyring; a packet under no key of it is dropped unread.
	n.setKeyIDs(n.gossipKeys)
	kr, err := memberlist.NewKeyring(n.gossipKeys, n.gossipKeys[0])
	if err != nil {
		return fmt.Errorf("gossip keyring: %w", err)
	}
	mc.Keyring, mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = kr, true, true
	n.keyring = kr
	d := &gossipDelegate{n: n}
	mc.Delegate, mc.Events, mc.Merge = d, d, d
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}
	n.ml = ml
	ln := ml.LocalNode()
	n.gossipAddr = net.JoinHostPort(ln.Addr.String(), strconv.Itoa(int(ln.Port)))
	return nil
}

// localMeta is this node's current gossip metadata.
func (n *Node) localMeta() meta {
	n.mu.Lock()
	defer n.mu.Unlock()
	m := newMeta(n.clusterID, n.RaftAddr(), n.HTTPAddr(), n.inventory)
	m.Leaving, m.Fenced, m.Keys = n.leaving, n.fenced, n.keyIDs
	m.Serial = pki.SerialOf(n.tls.Certificate().Leaf)
	return m
}

// completeInventory adds what the node, not the driver, knows.
func (n *Node) completeInventory(inv fsm.Inventory) fsm.Inventory {
	inv.Zone = n.cfg.Zone
	inv.AgentVersion = n.cfg.Version
	return inv
}

// inventoryLoop re-fingerprints the driver and re-publishes metadata when it,
// or the cluster ID this node belongs to, changed.
func (n *Node) inventoryLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.InventoryInterval)
	defer t.Stop()
	for {
		changed := false
		if n.invSrc != nil {
			inv, err := n.invSrc(ctx)
			if err != nil {
				n.log.Warn("fingerprint failed", "err", err)
			} else {
				inv = n.completeInventory(inv)
				n.mu.Lock()
				changed = inv != n.inventory
				n.inventory = inv
				n.mu.Unlock()
			}
		}
		id := n.fsm.ClusterID()
		n.mu.Lock()
		if id != n.clusterID {
			n.clusterID, changed = id, true
		}
		n.mu.Unlock()
		if changed {
			if err := n.ml.UpdateNode(time.Second); err != nil {
				n.log.Debug("publishing inventory: not confirmed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.fsm.WatchCh():
			// The cluster ID may have just arrived; check at once, then pace.
			if id == n.fsm.ClusterID() {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}
	}
}

// RefreshInventory fingerprints now and publishes at once (tests, admin).
func (n *Node) RefreshInventory(ctx context.Context) error {
	if n.invSrc == nil {
		return nil
	}
	inv, err := n.invSrc(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.inventory = n.completeInventory(inv)
	n.mu.Unlock()
	return n.ml.UpdateNode(5 * time.Second)
}

type gossipDelegate struct{ n *Node }

func (d *gossipDelegate) NodeMeta(limit int) []byte {
	b, err := d.n.localMeta().encode(limit)
	if err != nil {
		d.n.log.Error("node metadata", "err", err)
		return nil
	}
	return b
}

func (d *gossipDelegate) NotifyMsg([]byte)                           {}
func (d *gossipDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *gossipDelegate) LocalState(join bool) []byte                { return nil }
func (d *gossipDelegate) MergeRemoteState(buf []byte, join bool)     {}

func (d *gossipDelegate) NotifyJoin(node *memberlist.Node)   { d.n.observe(node, "alive") }
func (d *gossipDelegate) NotifyUpdate(node *memberlist.Node) { d.n.observe(node, "alive") }

// NotifyLeave fires for failed and departed nodes alike (memberlist does not
// tell them apart in the event), so a leaving node flags itself in its
// metadata first.
func (d *gossipDelegate) NotifyLeave(node *memberlist.Node) {
	status := "dead"
	if m, err := decodeMeta(node.Meta); err == nil && m.Leaving {
		status = "left"
	}
	d.n.observe(node, status)
}

// NotifyMerge refuses to merge gossip with nodes of another cluster, so a node
// holding one cluster's data never silently joins a second one.
func (d *gossipDelegate) NotifyMerge(peers []*memberlist.Node) error {
	n := d.n
	own := n.fsm.ClusterID()
	for _, p := range peers {
		m, err := decodeMeta(p.Meta)
		if err != nil || m.ClusterID == "" || own == "" || m.ClusterID == own {
			continue
		}
		err = fmt.Errorf("%w: this node belongs to cluster %s, which holds data, and %s belongs to cluster %s; "+
			"to move this node, stop it and start it with an empty data directory", ErrOtherCluster, own, p.Name, m.ClusterID)
		n.mu.Lock()
		n.mergeErr = err
		n.mu.Unlock()
		return err
	}
	return nil
}

func (n *Node) observe(node *memberlist.Node, status string) {
	m, err := decodeMeta(node.Meta)
	if err != nil && status == "alive" {
		n.log.Debug("member without shoal metadata", "member", node.Name, "err", err)
	}
	n.mu.Lock()
	prev := n.members[node.Name]
	rec := &member{name: node.Name, addr: net.JoinHostPort(node.Addr.String(), strconv.Itoa(int(node.Port))), status: status, meta: m}
	if err != nil && prev != nil {
		rec.meta = prev.meta
	}
	n.members[node.Name] = rec
	n.mu.Unlock()
	if prev == nil || prev.status != status || prev.meta.Raft != rec.meta.Raft || prev.meta.HTTP != rec.meta.HTTP {
		n.kickReconcile()
		kick(n.peersCh)
	}
}

func (n *Node) kickReconcile() { kick(n.reconcileCh) }

// kick wakes a loop waiting on ch without blocking.
func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// memberSnapshot copies the gossip view; suspect comes from memberlist itself.
func (n *Node) memberSnapshot() []member {
	suspect := map[string]bool{}
	for _, m := range n.ml.Members() {
		if m.State == memberlist.StateSuspect {
			suspect[m.Name] = true
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]member, 0, len(n.members))
	for _, m := range n.members {
		c := *m
		if c.status == "alive" && suspect[c.name] {
			c.status = "suspect"
		}
		out = append(out, c)
	}
	return out
}

// SetFenced publishes whether this node is fenced, so every member's view
// shows it.
func (n *Node) SetFenced(v bool) {
	n.mu.Lock()
	changed := n.fenced != v
	n.fenced = v
	n.mu.Unlock()
	if changed && n.ml != nil {
		go func() { _ = n.ml.UpdateNode(time.Second) }()
	}
}
