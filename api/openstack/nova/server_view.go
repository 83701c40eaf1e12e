package nova

import (
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// The server views, field for field Nova's at 2.1 (nova/api/openstack/
// compute/views/servers.py). Tempest validates every answer against its
// schemas (additionalProperties false), so a key that Nova leaves out is
// left out here too, and null stays null: key_name and task_state are null
// when unset, image is "" for none, progress appears only in the statuses
// Nova shows it for, fault only for ERROR and DELETED. Fields of later
// microversions slot in as more omitempty fields, set when
// osapi.Requested(ctx) says so.

// server is Nova's server: the common part every view has (PUT and rebuild
// at 2.1 show only this), then the detail a GET shows (serverDetail), then
// what only an admin sees (serverAdmin).
type server struct {
	ID         string                     `json:"id"`
	Name       string                     `json:"name"`
	Status     string                     `json:"status"`
	TenantID   string                     `json:"tenant_id"`
	UserID     string                     `json:"user_id"`
	Metadata   map[string]string          `json:"metadata"`
	HostID     string                     `json:"hostId"`
	Image      any                        `json:"image"`  // imageLink, or "" for none
	Flavor     any                        `json:"flavor"` // flavorLink, or 2.47's flavorEmbedded
	Created    string                     `json:"created"`
	Updated    string                     `json:"updated"`
	Addresses  map[string][]serverAddress `json:"addresses"`
	AccessIPv4 string                     `json:"accessIPv4"`
	AccessIPv6 string                     `json:"accessIPv6"`
	Links      []osapi.Link               `json:"links"`
	DiskConfig string                     `json:"OS-DCF:diskConfig"`
	Progress   *int                       `json:"progress,omitempty"`
	Fault      *serverFault               `json:"fault,omitempty"`
	AdminPass  string                     `json:"adminPass,omitempty"` // rebuild's answer only
	*serverDetail
	*serverAdmin
	// later are the fields of microversions after 2.1, by their JSON
	// names (server_view_versions.go), spliced in by MarshalJSON.
	later map[string]any
}

// serverDetail is what GET shows beyond the common part.
type serverDetail struct {
	KeyName          *string         `json:"key_name"`
	SecurityGroups   []securityGroup `json:"security_groups,omitempty"`
	AvailabilityZone string          `json:"OS-EXT-AZ:availability_zone"`
	ConfigDrive      string          `json:"config_drive"`
	LaunchedAt       *string         `json:"OS-SRV-USG:launched_at"`
	TerminatedAt     *string         `json:"OS-SRV-USG:terminated_at"`
	TaskState        *string         `json:"OS-EXT-STS:task_state"`
	VMState          string          `json:"OS-EXT-STS:vm_state"`
	PowerState       fsm.PowerState  `json:"OS-EXT-STS:power_state"`
	VolumesAttached  []volumeRef     `json:"os-extended-volumes:volumes_attached"`
}

// serverAdmin is the OS-EXT-SRV-ATTR extension, an admin's alone in
// Nova's default policy.
type serverAdmin struct {
	Host               *string `json:"OS-EXT-SRV-ATTR:host"`
	InstanceName       string  `json:"OS-EXT-SRV-ATTR:instance_name"`
	HypervisorHostname *string `json:"OS-EXT-SRV-ATTR:hypervisor_hostname"`
}

type imageLink struct {
	ID    string       `json:"id"`
	Links []osapi.Link `json:"links"`
}

type flavorLink struct {
	ID    string       `json:"id"`
	Links []osapi.Link `json:"links"`
}

// serverAddress is one address of a network; the OS-EXT-IPS fields are in
// the server views, not in /ips and not in PUT's answer at 2.1.
type serverAddress struct {
	Version int    `json:"version"`
	Addr    string `json:"addr"`
	Type    string `json:"OS-EXT-IPS:type,omitempty"`
	MAC     string `json:"OS-EXT-IPS-MAC:mac_addr,omitempty"`
}

type serverFault struct {
	Code    int    `json:"code"`
	Created string `json:"created"`
	Message string `json:"message"`
	Details string `json:"details,omitempty"`
}

type securityGroup struct {
	Name string `json:"name"`
}

// volumeRef is an attached volume; shoal attaches none, so the list is
// always empty, as Nova's is for a server without volumes.
type volumeRef struct {
	ID string `json:"id"`
}

// serverBrief is an entry of GET /servers (without /detail).
type serverBrief struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Links []osapi.Link `json:"links"`
}

// instanceNamePrefix makes OS-EXT-SRV-ATTR:instance_name the name of the
// server's domain on its host (compute/libvirt names domains "shoal-<id>"),
// which is what Nova's field tells an operator: what virsh lists.
const instanceNamePrefix = "shoal-"

// launchedFormat is how Nova writes OS-SRV-USG:launched_at: a naive
// datetime with microseconds and no zone, unlike every other time it shows.
const launchedFormat = "2006-01-02T15:04:05.000000"

// progressStatuses are those Nova shows progress in; faultStatuses those it
// shows the fault in.
var (
	progressStatuses = map[string]bool{"ACTIVE": true, "BUILD": true, "REBUILD": true, "RESIZE": true,
		"VERIFY_RESIZE": true, "MIGRATING": true}
	faultStatuses = map[string]bool{"ERROR": true, "DELETED": true}
)

// viewOpts say which parts of a server view a call shows.
type viewOpts struct {
	detail bool              // GET: the extensions beside the common part
	admin  bool              // the caller is an admin: OS-EXT-SRV-ATTR
	list   bool              // a list's view: no server_groups (2.71)
	zones  map[string]string // host → its availability zone
	hosts  map[string]api.Host
	// lookups reads the flavors and images later microversions embed;
	// nil shows what the instance itself holds.
	lookups *viewLookups
}

// detailOpts are the options of a GET's view: the caller's role and the
// hosts' zones, read once for the whole answer.
func (m *Module) detailOpts(r *http.Request) viewOpts {
	o := m.commonOpts(r)
	o.detail, o.zones, o.hosts = true, map[string]string{}, map[string]api.Host{}
	hosts, _ := m.ops.Hosts(r.Context())
	for _, h := range hosts {
		o.zones[h.Name] = zoneOf(h.Host)
		o.hosts[h.Name] = h
	}
	return o
}

// zone is the server's availability zone as Nova shows it: its host's once
// it has one, the zone it asked for until then.
func (o viewOpts) zone(d api.ServerDetail) string {
	if z, ok := o.zones[d.Host]; ok && d.Host != "" {
		return z
	}
	return d.AvailabilityZone
}

// serverView renders d (the /v1 detail, whose names and floating IPs api
// resolved) and inst (the replicated instance, for what /v1 leaves out) as
// Nova does.
func serverView(r *http.Request, d api.ServerDetail, inst fsm.Instance, o viewOpts) server {
	s := baseView(r, d, inst, o)
	s.later = laterFields(r, d, inst, o)
	v := osapi.Requested(r.Context())
	if v.AtLeast(2, 47) {
		s.Flavor = embeddedFlavor(inst, o)
	}
	if link, ok := s.Image.(imageLink); ok && v.AtLeast(2, 98) {
		s.Image = imageWithProperties{imageLink: link, Properties: imageProperties(link.ID, o)}
	}
	return s
}

// baseView is the server as Nova shows it at 2.1.
func baseView(r *http.Request, d api.ServerDetail, inst fsm.Instance, o viewOpts) server {
	base := api.BaseURL(r)
	s := server{
		ID: d.ID, Name: d.Name, Status: d.Status, TenantID: d.TenantID, UserID: d.UserID,
		Metadata: d.Metadata, HostID: osapi.HostID(d.TenantID, d.Host), Image: "",
		Flavor:  flavorLink{ID: d.Flavor.ID, Links: bookmark(base, "/flavors/"+d.Flavor.ID)},
		Created: osapi.Time(d.Created), Updated: osapi.Time(d.Updated), AccessIPv4: d.AccessIPv4, AccessIPv6: d.AccessIPv6,
		Addresses: map[string][]serverAddress{}, Links: links(r, "/servers/"+d.ID), DiskConfig: "MANUAL",
	}
	if d.VMState != fsm.VMBuilding {
		// Nova hides a server's addresses until its network is set up.
		s.Addresses = addresses(d, o.detail)
	}
	if s.Metadata == nil {
		s.Metadata = map[string]string{}
	}
	if d.Image.ID != "" {
		s.Image = imageLink{ID: d.Image.ID, Links: bookmark(base, "/images/"+d.Image.ID)}
	}
	if progressStatuses[s.Status] {
		s.Progress = new(int)
	}
	if faultStatuses[s.Status] && inst.Fault != nil {
		s.Fault = &serverFault{Code: inst.Fault.Code, Created: osapi.Time(inst.Fault.Created), Message: inst.Fault.Message}
		if inst.Fault.Details != "" && (o.admin || inst.Fault.Code != http.StatusInternalServerError) {
			s.Fault.Details = inst.Fault.Details
		}
	}
	if !o.detail {
		return s
	}
	s.serverDetail = &serverDetail{
		KeyName: nullable(d.KeyName), AvailabilityZone: o.zone(d), ConfigDrive: d.ConfigDrive,
		LaunchedAt: launchedAt(inst), TerminatedAt: terminatedAt(d), TaskState: nullable(d.TaskState), VMState: d.VMState,
		PowerState: d.PowerState, VolumesAttached: []volumeRef{},
	}
	for _, g := range d.SecurityGroups {
		s.SecurityGroups = append(s.SecurityGroups, securityGroup{Name: g.Name})
	}
	if o.admin {
		s.serverAdmin = &serverAdmin{Host: nullable(d.Host), InstanceName: instanceNamePrefix + d.ID,
			HypervisorHostname: nullable(d.Host)}
	}
	return s
}

// addresses groups d's addresses by network, each network's fixed IPs
// before its floating ones (Nova's order); extended adds the type and MAC
// the server views carry.
func addresses(d api.ServerDetail, extended bool) map[string][]serverAddress {
	out := map[string][]serverAddress{}
	for _, kind := range []string{api.AddressFixed, api.AddressFloating} {
		for _, a := range d.Addresses {
			if a.Type != kind {
				continue
			}
			addr := serverAddress{Version: ipVersion(a.IP), Addr: a.IP}
			if extended {
				addr.Type, addr.MAC = a.Type, a.MAC
			}
			out[a.Network] = append(out[a.Network], addr)
		}
	}
	return out
}

func ipVersion(ip string) int {
	if strings.Contains(ip, ":") {
		return 6
	}
	return 4
}

// launchedAt is when the server last came up from its image: the end of
// its newest successful create, rebuild or evacuate in the action log (the
// moments Nova sets launched_at); null before that.
func launchedAt(inst fsm.Instance) *string {
	for k := len(inst.Actions) - 1; k >= 0; k-- {
		a := inst.Actions[k]
		switch a.Action {
		case actionCreate, fsm.ActionRebuild, fsm.ActionEvacuate:
			if a.Result == resultSuccess && !a.Finish.IsZero() {
				t := a.Finish.UTC().Format(launchedFormat)
				return &t
			}
		}
	}
	return nil
}

// terminatedAt is when a deleted server went (its record's last change),
// null for the living.
func terminatedAt(d api.ServerDetail) *string {
	if d.VMState != fsm.VMDeleted {
		return nil
	}
	t := d.Updated.UTC().Format(launchedFormat)
	return &t
}

// bookmark is the one link Nova gives a server's image and flavor: the
// unversioned compute URL of it.
func bookmark(base, path string) []osapi.Link {
	return []osapi.Link{{Rel: "bookmark", Href: base + prefix + path}}
}

// isAdmin says whether the caller sees what Nova's default policy keeps
// for admins.
func isAdmin(r *http.Request) bool { return api.Caller(r.Context()).Admin() }
