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
	// ProjectID and UserID own the group; empty for groups made before
	// identity. Its project's server_group_members quota bounds Members.
	ProjectID string    `json:"project_id,omitempty"`
	UserID    string    `json:"user_id,omitempty"`
	Created   time.Time `json:"created"`
	Indexes
}

// ValidPolicy reports whether p is one of Nova's server group policies.
func ValidPolicy(p string) bool {
	switch p {
	case PolicyAffinity, PolicyAntiAffinity, PolicySoftAffinity, PolicySoftAntiAffinity:
		return true
	}
	return false
}
