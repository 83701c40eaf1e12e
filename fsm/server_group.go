package fsm

import "time"

// ServerGroup policies, as in Nova.
const (
	PolicyAffinity         = "affinity"
	PolicyAntiAffinity     = "anti-affinity"
	PolicySoftAffinity     = "soft-affinity"
	PolicySoftAntiAffinity = "soft-anti-affinity"
)

// ServerGroup groups servers for (anti-)affinity placement.
type ServerGroup struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Policy  string   `json:"policy"`
	Members []string `json:"members"`
	// MaxServerPerHost is an anti-affinity group's rule (Nova's
	// max_server_per_host, microversion 2.64): how many members one host
	// may hold; 0 means Nova's default, 1.
	MaxServerPerHost int `json:"max_server_per_host,omitempty"`
	// ProjectID and UserID own the group; empty for groups made before
	// identity. Its project's server_group_members quota bounds Members.
	ProjectID string    `json:"project_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Created   time.Time `json:"created"`
	Indexes
}

// PerHost is how many of the group's members one host may hold under
// anti-affinity: MaxServerPerHost, 1 when unset.
func (g *ServerGroup) PerHost() int { return max(g.MaxServerPerHost, 1) }

// ValidPolicy reports whether p is one of Nova's server group policies.
func ValidPolicy(p string) bool {
	switch p {
	case PolicyAffinity, PolicyAntiAffinity, PolicySoftAffinity, PolicySoftAntiAffinity:
		return true
	}
	return false
}
