package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Server limits, as Nova's.
const (
	maxServerCount = 100
	maxListLimit   = 1000
)

// ServerDetail is the wire shape of a server. (api.Server is the HTTP server.)
type ServerDetail struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Status           string            `json:"status"` // Nova's: BUILD, ACTIVE, SHUTOFF, ERROR, …
	Host             string            `json:"host"`
	Flavor           fsm.FlavorSpec    `json:"flavor"` // as it was at create
	Image            ImageRef          `json:"image"`
	Addresses        []ServerAddress   `json:"addresses"`
	VMState          string            `json:"vm_state"`
	TaskState        string            `json:"task_state"` // "" when no task runs
	PowerState       fsm.PowerState    `json:"power_state"`
	Fault            *Fault            `json:"fault,omitempty"`
	Created          time.Time         `json:"created"`
	Updated          time.Time         `json:"updated"`
	Metadata         map[string]string `json:"metadata"`
	AvailabilityZone string            `json:"availability_zone"`
	ServerGroup      string            `json:"server_group"` // the group's ID, or ""
	HA               string            `json:"ha"`           // restart|none: what happens when its host dies
	// SecurityGroups name the groups the server's port is in (Nova's shape).
	SecurityGroups []SecurityGroupRef `json:"security_groups"`
	// TenantID and UserID own the server (Nova's names); empty for servers
	// made before identity.
	TenantID string `json:"tenant_id"`
	UserID   string `json:"user_id"`
	// KeyName is the keypair the server was created with ("" for none);
	// ConfigDrive is "True" when it asked for a config drive, else "", as
	// Nova shows both.
	KeyName     string `json:"key_name"`
	ConfigDrive string `json:"config_drive"`
	// Description, the access addresses and the lock are Nova's (PUT
	// /servers/{id}, lock/unlock); "" and false when unset.
	Description  string `json:"description"`
	AccessIPv4   string `json:"accessIPv4"`
	AccessIPv6   string `json:"accessIPv6"`
	Locked       bool   `json:"locked"`
	LockedReason string `json:"locked_reason,omitempty"`
}

// ServerAddress is one of a server's addresses: a fixed IP on its network
// (Type "fixed") or a floating IP mapped to one (Type "floating", shown after
// its fixed IP with the same network and MAC, as Nova shows it).
type ServerAddress struct {
	fsm.Address
	Type string `json:"OS-EXT-IPS:type"`
}

// Address types of a ServerAddress (Nova's OS-EXT-IPS:type).
const (
	AddressFixed    = "fixed"
	AddressFloating = "floating"
)

// ImageRef names the image a server was built from.
type ImageRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Fault is why a server is in ERROR or why its last action failed.
type Fault struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// ServerResponse is the body of GET /v1/servers/{id}, of an action and of a
// create of one server.
type ServerResponse struct {
	Server ServerDetail `json:"server"`
}

// ServerList is the body of GET /v1/servers and of a create of several.
type ServerList struct {
	Servers []ServerDetail `json:"servers"`
}

// ServerCreate is what POST /v1/servers takes, wrapped as {"server":{...}}.
// Flavor, Image and ServerGroup are IDs or names. AvailabilityZone is "zone",
// "zone:host" or ":host" (Nova's forced-host syntax). Count 0 means 1.
// SecurityGroups are names (or IDs) of the project's groups; none means its
// default group. KeyName is one of the caller's keypairs, whose public key
// the servers copy; UserData is base64 (at most 65535 bytes of it, Nova's
// limit); ConfigDrive asks for a config drive.
type ServerCreate struct {
	Name             string             `json:"name"`
	Flavor           string             `json:"flavor"`
	Image            string             `json:"image"`
	AvailabilityZone string             `json:"availability_zone,omitempty"`
	ServerGroup      string             `json:"server_group,omitempty"`
	Metadata         map[string]string  `json:"metadata,omitempty"`
	Count            int                `json:"count,omitempty"`
	HA               string             `json:"ha,omitempty"` // restart (default) or none
	SecurityGroups   []SecurityGroupRef `json:"security_groups,omitempty"`
	KeyName          string             `json:"key_name,omitempty"`
	UserData         string             `json:"user_data,omitempty"`
	ConfigDrive      bool               `json:"config_drive,omitempty"`
	// Description, Tags and Hostname are Nova's (2.19, 2.52, 2.90); Host
	// is 2.74's requested host, an admin's. Hostname "" derives one from
	// each server's name.
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	Host        string   `json:"host,omitempty"`
}

// serverCreateRequest tells a missing count from a zero one.
type serverCreateRequest struct {
	Name             string             `json:"name"`
	Flavor           string             `json:"flavor"`
	Image            string             `json:"image"`
	AvailabilityZone string             `json:"availability_zone"`
	ServerGroup      string             `json:"server_group"`
	Metadata         map[string]string  `json:"metadata"`
	Count            *int               `json:"count"`
	HA               string             `json:"ha"`
	SecurityGroups   []SecurityGroupRef `json:"security_groups"`
	KeyName          string             `json:"key_name"`
	UserData         string             `json:"user_data"`
	ConfigDrive      bool               `json:"config_drive"`
	Description      string             `json:"description"`
	Tags             []string           `json:"tags"`
	Hostname         string             `json:"hostname"`
	Host             string             `json:"host"`
}

// ServerFilter selects servers in GET /v1/servers. Name is a regular
// expression matched anywhere in the name (Nova's semantics); Status is
// matched case-insensitively; Limit 0 means all; Marker is the ID of the last
// server of the previous page. A caller lists its own project's servers;
// AllTenants (every project) and ProjectID (another one) are an admin's.
type ServerFilter struct {
	Status     string
	Host       string
	Name       string
	Limit      int
	Marker     string
	AllTenants bool
	ProjectID  string
}

// Query encodes the filter as GET /v1/servers's query parameters.
func (f ServerFilter) Query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "host": f.Host, "name": f.Name, "marker": f.Marker} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.AllTenants {
		q.Set("all_tenants", "1")
	}
	if f.ProjectID != "" {
		q.Set("project_id", f.ProjectID)
	}
	return q
}

// serverStatuses are the values Instance.Status yields.
var serverStatuses = []string{"BUILD", "ACTIVE", "REBOOT", "HARD_REBOOT", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR", "DELETED", "UNKNOWN"}

func (s *Server) createServers(w http.ResponseWriter, r *http.Request) {
	var req serverCreateRequest
	if err := decodeWrapped(w, r, "server", &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	idx, out, err := s.ops.createServers(r.Context(), req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	if len(out) == 1 {
		w.Header().Set("Location", "/v1/servers/"+url.PathEscape(out[0].ID))
		WriteJSON(w, http.StatusAccepted, ServerResponse{Server: out[0]})
		return
	}
	WriteJSON(w, http.StatusAccepted, ServerList{Servers: out})
}

// applyToServers commits c and reads back the servers it made or changed.
func (s *Server) applyToServers(ctx context.Context, c fsm.Command, ids []string) (uint64, []ServerDetail, error) {
	idx, err := s.apply(ctx, c)
	if err != nil {
		return idx, nil, err
	}
	views := s.serverViews()
	out := make([]ServerDetail, 0, len(ids))
	for _, id := range ids {
		inst, err := s.state.Instance(id)
		if err != nil {
			return idx, nil, fmt.Errorf("reading back server %q applied at index %d: %w", id, idx, err)
		}
		out = append(out, views.detail(inst))
	}
	return idx, out, nil
}

// newInstances validates a create request against the local replica and
// builds the command, with IDs, request ID, time and owner stamped. The
// image and the group must be ones the caller sees.
func (s *Server) newInstances(ctx context.Context, req serverCreateRequest) (*fsm.CreateInstances, error) {
	count := 1
	if req.Count != nil {
		count = *req.Count
	}
	if count < 1 || count > maxServerCount {
		return nil, fmt.Errorf("%w: count must be from 1 to %d, got %d", fsm.ErrInvalid, maxServerCount, count)
	}
	names := []string{req.Name}
	if count > 1 {
		names = names[:0]
		for k := 1; k <= count; k++ {
			names = append(names, fmt.Sprintf("%s-%d", req.Name, k))
		}
	}
	if err := validName("server name", req.Name); err != nil {
		return nil, err
	}
	if err := validName("server name", names[len(names)-1]); err != nil {
		return nil, err
	}
	// The shape here; how many items is the project's metadata_items
	// quota, which Apply holds the create to (403, Nova's message).
	if err := fsm.ValidMetadata("metadata", req.Metadata); err != nil {
		return nil, err
	}
	if err := s.metadataQuota(Caller(ctx).ProjectID, len(req.Metadata)); err != nil {
		return nil, err
	}
	if req.HA != "" && req.HA != fsm.HARestart && req.HA != fsm.HANone {
		return nil, fmt.Errorf("%w: ha must be %s or %s, not %q", fsm.ErrInvalid, fsm.HARestart, fsm.HANone, req.HA)
	}
	zone, host, err := s.parseZone(req.AvailabilityZone)
	if err != nil {
		return nil, err
	}
	if host, err = s.requestedHost(ctx, host, req.Host); err != nil {
		return nil, err
	}
	tags, err := createTags(req.Tags, req.Hostname, count)
	if err != nil {
		return nil, err
	}
	f, img, err := s.flavorAndImage(ctx, req.Flavor, req.Image)
	if err != nil {
		return nil, err
	}
	var groupID string
	if req.ServerGroup != "" {
		g, err := s.serverGroupFor(ctx, req.ServerGroup)
		if err != nil {
			return nil, badRef("server group", req.ServerGroup, err)
		}
		groupID = g.ID
	}
	if _, ok := s.state.Network(); !ok {
		return nil, fmt.Errorf("%w: the cluster has no network for fixed IPs", fsm.ErrConflict)
	}
	p := Caller(ctx)
	groups, err := s.serverSecurityGroups(p.ProjectID, req.SecurityGroups)
	if err != nil {
		return nil, err
	}
	keyData, err := s.serverKey(p.UserID, req.KeyName)
	if err != nil {
		return nil, err
	}
	if err := fsm.ValidUserData(req.UserData); err != nil {
		return nil, err
	}
	cmd := &fsm.CreateInstances{RequestID: RequestID(ctx), Time: time.Now().UTC(), ProjectID: p.ProjectID, UserID: p.UserID,
		Admin: p.Admin()}
	for k, name := range names {
		id := uuid.NewString()
		cmd.Instances = append(cmd.Instances, fsm.NewInstance{
			ID: id, Name: name, FlavorID: f.ID, ImageID: img.ID,
			AvailabilityZone: zone, ForceHost: host, ServerGroupID: groupID, Metadata: req.Metadata, HA: req.HA,
			SecurityGroups: groups, KeyName: req.KeyName, KeyData: keyData, UserData: req.UserData, ConfigDrive: req.ConfigDrive,
			Description: req.Description, Tags: tags, Hostname: hostnameOf(req.Hostname, name, id), LaunchIndex: k,
		})
	}
	if err := fitsOneEntry(cmd, len(req.UserData)); err != nil {
		return nil, err
	}
	return cmd, nil
}

// fitsOneEntry refuses a create that would not fit one Raft entry
// (fsm.MaxEntrySize): every server copies the boot data (user data,
// metadata, key) and all of them are proposed at once, so count times
// user_data is what grows. Nova has no such limit; measuring the entry
// itself (JSON escapes included) here, before anything is proposed, is
// what keeps such a create from failing late, or only on a follower.
func fitsOneEntry(cmd *fsm.CreateInstances, userDataLen int) error {
	data, err := fsm.Encode(cmd)
	if err != nil {
		return fmt.Errorf("%w: %v", fsm.ErrInvalid, err)
	}
	if len(data) <= fsm.MaxEntrySize {
		return nil
	}
	return fmt.Errorf("%w: %d servers, each with its own copy of the %d bytes of user_data and of the metadata and key, "+
		"make a request of %d bytes; one create may carry at most %d: create fewer servers at a time, or pass less user_data",
		fsm.ErrInvalid, len(cmd.Instances), userDataLen, len(data), fsm.MaxEntrySize)
}

// serverKey is the public key of the caller's keypair name, which a new
// server copies (as Nova does); "" for none. An unknown one is Nova's 400.
func (s *Server) serverKey(userID, name string) (string, error) {
	if name == "" {
		return "", nil
	}
	k, err := s.state.KeyPair(userID, name)
	if err != nil {
		return "", fmt.Errorf("%w: Invalid key_name provided.", fsm.ErrInvalid)
	}
	return k.PublicKey, nil
}

// flavorAndImage resolves both references and checks the image fits the
// flavor, with Nova's messages. A bad reference is a bad request (400), as
// Nova answers for a bad flavorRef or imageRef.
func (s *Server) flavorAndImage(ctx context.Context, flavorRef, imageRef string) (fsm.Flavor, fsm.Image, error) {
	if err := validRef("flavor", flavorRef); err != nil {
		return fsm.Flavor{}, fsm.Image{}, err
	}
	if err := validRef("image", imageRef); err != nil {
		return fsm.Flavor{}, fsm.Image{}, err
	}
	f, err := s.flavorFor(ctx, flavorRef)
	if err != nil {
		return fsm.Flavor{}, fsm.Image{}, badRef("flavor", flavorRef, err)
	}
	img, err := s.imageFor(ctx, imageRef)
	if err != nil {
		return fsm.Flavor{}, fsm.Image{}, badRef("image", imageRef, err)
	}
	return f, img, imageFits(fsm.FlavorSpec{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk}, img)
}

// imageFits checks that a server of flavor f can be built from img (at
// create and at rebuild), with Nova's messages.
func imageFits(f fsm.FlavorSpec, img fsm.Image) error {
	const gib = int64(1) << 30
	switch {
	case img.Status != "active":
		return fmt.Errorf("%w: image %s is not active (status %s)", fsm.ErrInvalid, img.ID, img.Status)
	case img.MinRAM > f.RAM:
		return fmt.Errorf("%w: flavor's memory is too small for requested image: flavor %s has %d MiB, image %s needs %d MiB",
			fsm.ErrInvalid, f.Name, f.RAM, img.Name, img.MinRAM)
	case f.Disk == 0:
		// A zero-disk flavor takes the image's size, as in Nova.
	case img.Size > int64(f.Disk)*gib:
		return fmt.Errorf("%w: flavor's disk is too small for requested image: flavor disk is %d bytes, image is %d bytes",
			fsm.ErrInvalid, int64(f.Disk)*gib, img.Size)
	case img.MinDisk > f.Disk:
		return fmt.Errorf("%w: flavor's disk is smaller than the minimum size specified in image metadata: flavor disk is %d GiB, minimum size is %d GiB",
			fsm.ErrInvalid, f.Disk, img.MinDisk)
	}
	return nil
}

// badRef turns a failed lookup of something a request refers to into a bad
// request, with Nova's message ("Image cirros could not be found.").
func badRef(what, ref string, err error) error {
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		return fmt.Errorf("%w: %s%s %s could not be found.", fsm.ErrInvalid, strings.ToUpper(what[:1]), what[1:], ref)
	case errors.Is(err, fsm.ErrConflict):
		return fmt.Errorf("%w: %s %q is ambiguous: %v", fsm.ErrInvalid, what, ref, err)
	}
	return err
}

// parseZone splits Nova's "zone", "zone:host" and ":host"; a forced host
// must be registered.
func (s *Server) parseZone(az string) (zone, host string, err error) {
	if az == "" {
		return "", "", nil
	}
	if err := validText("availability_zone", az, maxNameLen); err != nil {
		return "", "", err
	}
	zone, host, forced := strings.Cut(az, ":")
	if !forced {
		return zone, "", nil
	}
	if host == "" || strings.Contains(host, ":") {
		return "", "", fmt.Errorf("%w: availability_zone %q must be ZONE, ZONE:HOST or :HOST", fsm.ErrInvalid, az)
	}
	if _, err := s.state.Host(host); err != nil {
		return "", "", badRef("host", host, err)
	}
	return zone, host, nil
}

func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q, err := parseServerQuery(r.URL.Query())
	var scope tenantScope
	if err == nil {
		scope, err = listScope(r, r.URL.Query(), "all_tenants", "project_id", "tenant_id")
	}
	var out []ServerDetail
	if err == nil {
		out, err = s.ops.servers(scope, q)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, ServerList{Servers: out})
}

// serverQuery is a parsed ServerFilter.
type serverQuery struct {
	ServerFilter
	name *regexp.Regexp
}

func (q serverQuery) matches(i *fsm.Instance) bool {
	return (q.Status == "" || i.Status() == q.Status) &&
		(q.Host == "" || i.Host == q.Host) &&
		(q.name == nil || q.name.MatchString(i.Name))
}

// parseServerQuery refuses unknown, repeated and malformed parameters, so a
// typo is an error rather than an unfiltered list.
func parseServerQuery(v url.Values) (serverQuery, error) {
	var f ServerFilter
	for k, vals := range v {
		switch k {
		case "status", "host", "name", "limit", "marker", "consistent", "all_tenants", "project_id", "tenant_id":
		default:
			return serverQuery{}, fmt.Errorf("%w: unknown query parameter %q (use status, host, name, limit, marker, all_tenants, project_id)", fsm.ErrInvalid, k)
		}
		if len(vals) > 1 {
			return serverQuery{}, fmt.Errorf("%w: query parameter %q is given %d times", fsm.ErrInvalid, k, len(vals))
		}
		if err := validText(k, vals[0], maxFilterLen); err != nil {
			return serverQuery{}, err
		}
	}
	f.Host, f.Marker, f.Name = v.Get("host"), v.Get("marker"), v.Get("name")
	if st := v.Get("status"); st != "" {
		f.Status = strings.ToUpper(st)
		if !slices.Contains(serverStatuses, f.Status) {
			return serverQuery{}, fmt.Errorf("%w: status %q is not one of %s", fsm.ErrInvalid, st, strings.Join(serverStatuses, ", "))
		}
	}
	if v.Has("limit") {
		// A limit above the page maximum gets a full page, as in Nova.
		n, err := strconv.Atoi(v.Get("limit"))
		if err != nil || n < 1 {
			return serverQuery{}, fmt.Errorf("%w: limit must be a positive integer, not %q", fsm.ErrInvalid, v.Get("limit"))
		}
		f.Limit = n
	}
	return f.compile()
}

func (s *Server) showServer(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	d, _, err := s.ops.Server(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return ServerResponse{Server: d} })
}

func (s *Server) deleteServer(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteServer(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// serverViews is what rendering servers needs beside the instances, read
// once per response: image names, security group names and the floating
// IPs attached to each server.
type serverViews struct {
	images   map[string]string           // image ID → name
	groups   map[string]string           // security group ID → name
	floating map[string][]fsm.FloatingIP // instance ID → its floating IPs
}

func (s *Server) serverViews() serverViews {
	v := serverViews{images: map[string]string{}, groups: map[string]string{}, floating: map[string][]fsm.FloatingIP{}}
	for _, img := range s.state.Images() {
		v.images[img.ID] = img.Name
	}
	for _, g := range s.state.AllSecurityGroups() {
		v.groups[g.ID] = g.Name
	}
	for _, f := range s.state.FloatingIPs(func(f *fsm.FloatingIP) bool { return f.InstanceID != "" }) {
		v.floating[f.InstanceID] = append(v.floating[f.InstanceID], f)
	}
	return v
}

// detail renders an instance in the wire shape.
func (v serverViews) detail(i fsm.Instance) ServerDetail {
	d := ServerDetail{
		ID: i.ID, Name: i.Name, Status: i.Status(), Host: i.Host, Flavor: i.Flavor,
		Image:     ImageRef{ID: i.ImageID, Name: v.images[i.ImageID]},
		Addresses: []ServerAddress{}, VMState: i.VMState, TaskState: i.TaskState, PowerState: i.PowerState,
		Created: i.Created, Updated: i.Updated, Metadata: i.Metadata,
		AvailabilityZone: i.AvailabilityZone, ServerGroup: i.ServerGroupID, HA: i.Policy(),
		TenantID: i.ProjectID, UserID: i.UserID, SecurityGroups: []SecurityGroupRef{}, KeyName: i.KeyName,
		Description: i.Description, AccessIPv4: i.AccessIPv4, AccessIPv6: i.AccessIPv6, Locked: i.Locked, LockedReason: i.LockedReason,
	}
	if i.ConfigDrive {
		d.ConfigDrive = "True"
	}
	for _, a := range i.Addresses {
		d.Addresses = append(d.Addresses, ServerAddress{Address: a, Type: AddressFixed})
		for _, f := range v.floating[i.ID] {
			if f.FixedIP == a.IP {
				d.Addresses = append(d.Addresses, ServerAddress{Address: fsm.Address{Network: a.Network, IP: f.IP, MAC: a.MAC},
					Type: AddressFloating})
			}
		}
	}
	for _, id := range i.SecurityGroups {
		name := v.groups[id]
		if name == "" {
			name = id // not readable here (cannot happen once stored): the ID still names it
		}
		d.SecurityGroups = append(d.SecurityGroups, SecurityGroupRef{Name: name})
	}
	if d.Metadata == nil {
		d.Metadata = map[string]string{}
	}
	if i.Fault != nil {
		d.Fault = &Fault{Code: i.Fault.Code, Message: i.Fault.Message}
	}
	return d
}
