package api

import (
	"context"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// State is the read-only view of the local replica the API serves reads from.
// *fsm.FSM satisfies it.
type State interface {
	Index() uint64
	ClusterID() string
	Flavors() []fsm.Flavor
	Flavor(ref string) (fsm.Flavor, error)
	Hosts() []fsm.Host
	Host(name string) (fsm.Host, error)
	// Drain is a host's drain as it stands (progress and next moves).
	Drain(host string) (fsm.DrainView, error)
	Instance(id string) (fsm.Instance, error)
	Instances(keep func(*fsm.Instance) bool) []fsm.Instance
	MigrationOf(id string) (fsm.Migration, error) // the migration moving a server now
	Images() []fsm.Image
	Image(ref string) (fsm.Image, error)
	ServerGroups() []fsm.ServerGroup
	ServerGroup(ref string) (fsm.ServerGroup, error)
	Usage() map[string]fsm.Usage
	Network() (fsm.NetworkInfo, bool)
	// Networking: the tenant network (ID "default") and the external ones,
	// floating IPs, security groups (a project's default group shown
	// before it is stored).
	Networks() []fsm.Network
	NetworkByID(id string) (fsm.Network, error)
	FloatingIPs(keep func(*fsm.FloatingIP) bool) []fsm.FloatingIP
	FloatingIP(id string) (fsm.FloatingIP, error)
	SecurityGroupsOf(projectID string) []fsm.SecurityGroup
	SecurityGroup(id string) (fsm.SecurityGroup, error)
	AllSecurityGroups() []fsm.SecurityGroup
	SecurityGroupRule(id string) (fsm.SecurityGroupRule, error)
	// Keypairs of one user (Nova's os-keypairs), ordered by name.
	KeyPairsOf(userID string) []fsm.KeyPair
	KeyPair(userID, name string) (fsm.KeyPair, error)
	Quota(projectID string) fsm.QuotaSet
	// A quota class's limits over the defaults (fsm.DefaultQuotaClass's
	// are what projects without their own get).
	QuotaClass(name string) fsm.QuotaSet
	// Host aggregates by ID.
	Aggregates() []fsm.Aggregate
	Aggregate(id uint64) (fsm.Aggregate, error)
	ProjectUsage(projectID string) fsm.QuotaUsage
	// The record of deleted servers (the last fsm.MaxDeletedInstances).
	DeletedInstances(since time.Time, keep func(*fsm.Instance) bool) []fsm.DeletedInstance
	DeletedInstance(id string) (fsm.DeletedInstance, error)
	// The record of migrations (newest first) and one by ID.
	Migrations(keep func(*fsm.Migration) bool) []fsm.Migration
	Migration(id uint64) (fsm.Migration, error)
	WaitForIndex(ctx context.Context, idx uint64) error

	// Identity: tokens are validated against these at every request.
	User(ref string) (fsm.User, error)
	Project(ref string) (fsm.Project, error)
	RolesOf(userID, projectID string) []fsm.Role
	SigningKey(kid string) (fsm.SigningKey, error)
	TokenRevoked(auditID string) bool
	// Identity management (/identity/v3).
	Projects() []fsm.Project
	Domain(id string) (fsm.Domain, error)
	Users() []fsm.User
	Role(ref string) (fsm.Role, error)
	Roles() []fsm.Role
	RoleAssignments(userID, projectID string) []fsm.RoleAssignment

	// Cluster security: join tokens (listed without their secrets) and the
	// deny-list of node certificates, asked on every internal request.
	JoinTokens() []fsm.JoinToken
	NodeCertRevoked(serial string) bool
}

var _ State = (*fsm.FSM)(nil)

// Member is one node as gossip and Raft see it (the wire shape of
// /v1/cluster/members): its inventory as the node gossips it, free figures
// included.
type Member struct {
	Name      string        `json:"name"`
	Address   string        `json:"address"` // gossip host:port
	Status    string        `json:"status"`  // alive|suspect|dead|left
	Role      string        `json:"role"`    // leader|follower|nonvoter|none
	Fenced    bool          `json:"fenced"`
	Inventory fsm.Inventory `json:"inventory"`
}

// Leader names the current Raft leader as this node sees it.
type Leader struct {
	Name        string `json:"name"`
	RaftAddress string `json:"raft_address"`
	HTTPAddress string `json:"http_address"`
}

// Health is this node's own view of itself (GET /v1/health).
type Health struct {
	Name      string `json:"name"`
	Status    string `json:"status"` // ok|waiting|no-leader
	ClusterID string `json:"cluster_id"`
	Role      string `json:"role"`
	Leader    string `json:"leader"`
	Index     uint64 `json:"index"`
	Version   string `json:"version"`
	// Fenced: the node's lease ran out; it stopped its servers and starts
	// none until it is back in contact with a leader.
	Fenced           bool  `json:"fenced"`
	LeaseRemainingMS int64 `json:"lease_remaining_ms"`
	// Scheduler: this node leads and its scheduler runs.
	Scheduler bool `json:"scheduler"`
}

// Cluster is what the API needs from the node it runs on. cmd wires a
// cluster.Node to it.
type Cluster interface {
	// Apply commits a command through Raft (forwarding to the leader when this
	// node is a follower) and returns the index it was applied at. Business
	// errors wrap fsm.ErrConflict/ErrNotFound/ErrInvalid; no leader within the
	// hold time wraps fsm.ErrNoLeader.
	Apply(ctx context.Context, c fsm.Command) (uint64, error)
	// Members lists every node gossip knows, including dead and left ones.
	Members() []Member
	// Leader returns the leader, or ok=false while there is none.
	Leader() (l Leader, ok bool)
	// IsLeader reports whether this node is the leader.
	IsLeader() bool
	// Barrier waits until this node (the leader) has applied everything committed.
	Barrier(ctx context.Context) error
	// Sync waits until this node's replica has applied every write the
	// cluster had committed when it was called (a read index from the
	// leader), so a write validated here sees what other nodes acknowledged.
	Sync(ctx context.Context) error
	// Leave leaves the cluster gracefully: this node is removed from Raft and
	// announces its departure over gossip; the agent then stops.
	Leave(ctx context.Context) error
	// Health reports this node's state.
	Health() Health

	// CreateJoinToken makes a join token for uses joins, valid for ttl (0:
	// the cluster's default), records its hash and returns the token, which
	// exists nowhere else. A ttl or uses out of the cluster's bounds is
	// refused with fsm.ErrInvalid before anything is proposed.
	CreateJoinToken(ctx context.Context, ttl time.Duration, uses int, createdBy string) (token string, rec fsm.JoinToken, err error)
	// RotateGossipKey replaces the cluster's gossip key and returns the new
	// key's ID once every live member uses it.
	RotateGossipKey(ctx context.Context) (keyID string, err error)
	// InternalClient reaches other nodes' HTTPS port as this node: it
	// presents the node certificate and trusts only the cluster CA. The API
	// forwards requests to other nodes (a consistent read to the leader, a
	// console log to the server's host) with its transport.
	InternalClient() *http.Client
	// RemoveHost takes a node out of the cluster for good: its host record
	// goes, its certificates are revoked (every node refuses them from then
	// on) and it leaves Raft. Refused (fsm.ErrConflict) for a host that has
	// servers and for the node serving the request.
	RemoveHost(ctx context.Context, name string) error
}
