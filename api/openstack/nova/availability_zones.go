package nova

import (
	"net/http"
	"slices"

	"github.com/shoal-project/shoal/api"
)

// os-availability-zone: shoal's zones are its hosts' (each node names
// its own, "nova" by default). A zone is available while one of its
// services is enabled, as in Nova; the others are listed unavailable.

// defaultZone is Nova's default_availability_zone.
const defaultZone = "nova"

// Zone is an entry of availabilityZoneInfo. Hosts is null in the plain
// list and, in the detailed one, for an unavailable zone.
type Zone struct {
	Name  string                                 `json:"zoneName"`
	State ZoneState                              `json:"zoneState"`
	Hosts map[string]map[string]ZoneServiceState `json:"hosts"`
}

// ZoneState says whether a zone takes servers.
type ZoneState struct {
	Available bool `json:"available"`
}

// ZoneServiceState is a service of a host in the detailed list.
type ZoneServiceState struct {
	Available bool    `json:"available"` // up
	Active    bool    `json:"active"`    // enabled
	UpdatedAt *string `json:"updated_at"`
}

func (m *Module) registerAvailabilityZones(r api.Router) {
	m.route(r, "GET /os-availability-zone", api.AccessAuthenticated, func(w http.ResponseWriter, r *http.Request) {
		m.listZones(w, r, false)
	})
	m.route(r, "GET /os-availability-zone/detail", api.AccessAdmin, func(w http.ResponseWriter, r *http.Request) {
		m.listZones(w, r, true)
	})
}

func (m *Module) listZones(w http.ResponseWriter, r *http.Request, detail bool) {
	hosts, err := m.ops.Hosts(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	available := map[string]bool{}
	members := map[string]map[string]map[string]ZoneServiceState{}
	var names []string
	for _, h := range hosts {
		z := zoneOf(h.Host)
		if _, seen := available[z]; !seen {
			names = append(names, z)
			members[z] = map[string]map[string]ZoneServiceState{}
		}
		available[z] = available[z] || h.Status == "enabled"
		members[z][h.Name] = map[string]ZoneServiceState{computeBinary: {
			Available: h.State == "up", Active: h.Status == "enabled", UpdatedAt: nullable(naiveTime(h.Updated))}}
	}
	slices.Sort(names)
	out := []Zone{}
	for _, z := range names {
		zone := Zone{Name: z, State: ZoneState{Available: available[z]}}
		if detail && available[z] {
			zone.Hosts = members[z]
		}
		out = append(out, zone)
	}
	// Nova lists the available zones first.
	slices.SortStableFunc(out, func(a, b Zone) int {
		switch {
		case a.State.Available == b.State.Available:
			return 0
		case a.State.Available:
			return -1
		}
		return 1
	})
	api.WriteJSON(w, http.StatusOK, map[string][]Zone{"availabilityZoneInfo": out})
}
