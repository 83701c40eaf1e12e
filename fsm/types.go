package fsm

import "time"

// Indexes are the Raft indexes of the entries that created and last changed an object.
type Indexes struct {
	CreateIndex uint64 `json:"create_index"`
	ModifyIndex uint64 `json:"modify_index"`
}

// Host is a compute host / service registered in the cluster (Nova's os-services).
type Host struct {
	Name           string `json:"name"`
	GossipAddress  string `json:"gossip_address"`
	RaftAddress    string `json:"raft_address"`
	HTTPAddress    string `json:"http_address"`
	Enabled        bool   `json:"enabled"`
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Down is the leader's verdict that the host is gone and has certainly
	// fenced itself (gossip dead, no lease for longer than lease + margin);
	// its servers have been evacuated. DownSince is when it was last seen.
	Down      bool      `json:"down,omitempty"`
	DownSince time.Time `json:"down_since,omitzero"`
	// ForcedDown is an operator's word that the host must be treated as down
	// (Nova's forced_down): no new servers, no lease; once its lease has run
	// out it is marked Down and evacuated.
	ForcedDown bool `json:"forced_down,omitempty"`
	// Draining says the leader is moving the host's servers away
	// (DrainHost, drain.go); DrainIndex is the Raft index the drain started
	// at (it counts the migrations made since), DrainResult how the last
	// drain ended (done, failed or cancelled).
	Draining     bool      `json:"draining,omitempty"`
	DrainIndex   uint64    `json:"drain_index,omitempty"`
	DrainStarted time.Time `json:"drain_started,omitzero"`
	DrainEnded   time.Time `json:"drain_ended,omitzero"`
	DrainResult  string    `json:"drain_result,omitempty"`
	// What the host offers, as its driver last reported it through gossip:
	// only the Record part (totals and identity; the free figures are
	// zero), which the leader copies here when it changes. Claims are
	// checked against these totals at commit time (Capacity).
	Inventory
	// AvailabilityZone is the zone the host's aggregates give it, resolved
	// on every read and never stored ("" when none). Filters and views read
	// InZone (this, else the node's Inventory.Zone), never Zone.
	AvailabilityZone string    `json:"availability_zone,omitempty"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	Indexes
}

// Flavor is a hardware template for servers (Nova's flavors).
type Flavor struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	VCPUs int    `json:"vcpus"`
	RAM   int    `json:"ram"`  // MiB
	Disk  int    `json:"disk"` // GiB
	// Swap (MiB) and Ephemeral (GiB) are Nova's extra disks, 0 for none;
	// they are recorded and shown, not yet given to guests.
	Swap      int `json:"swap,omitempty"`
	Ephemeral int `json:"ephemeral,omitempty"`
	// RxtxFactor is Nova's rxtx_factor; 0 stands for its default, 1.0
	// (EffectiveRxtxFactor), so records made before it keep meaning that.
	RxtxFactor  float64 `json:"rxtx_factor,omitempty"`
	Description string  `json:"description,omitempty"`
	// Private is Nova's is_public false: the flavor is seen and used only
	// by admins and the projects in Access (sorted project IDs). Stored
	// this way round so that the zero value, which every record made
	// before it has, is Nova's default: public (IsPublic).
	Private bool     `json:"private,omitempty"`
	Access  []string `json:"access,omitempty"`
	// ExtraSpecs are Nova's free key/value hints (hw:cpu_policy and the
	// like); shoal stores and shows them.
	ExtraSpecs map[string]string `json:"extra_specs,omitempty"`
	Created    time.Time         `json:"created"`
	Indexes
}

// DefaultFlavors are Nova's classic flavors; they exist from bootstrap on.
func DefaultFlavors() []Flavor {
	return []Flavor{
		{ID: "1", Name: "m1.tiny", VCPUs: 1, RAM: 512, Disk: 1},
		{ID: "2", Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20},
		{ID: "3", Name: "m1.medium", VCPUs: 2, RAM: 4096, Disk: 40},
		{ID: "4", Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80},
		{ID: "5", Name: "m1.xlarge", VCPUs: 8, RAM: 16384, Disk: 160},
	}
}
