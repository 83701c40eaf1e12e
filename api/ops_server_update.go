package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Changes to a server that are not lifecycle actions (Nova's PUT
// /servers/{id}, its server metadata API, lock and unlock) and the record
// of deleted servers. The rules live in fsm's Apply; these check what can
// be checked before proposing, so that a refused request stays out of the
// log, and stamp the caller and the time.

// ServerUpdate is what PUT /v1/servers/{id} changes (Nova's names): a nil
// field is left as it is; "" clears the description or an address.
type ServerUpdate struct {
	Name        *string `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	AccessIPv4  *string `json:"accessIPv4,omitempty"`
	AccessIPv6  *string `json:"accessIPv6,omitempty"`
	Hostname    *string `json:"hostname,omitempty"` // Nova 2.90
}

// MetadataBody is the body of the whole-map metadata calls: {"metadata":{…}}.
type MetadataBody struct {
	Metadata map[string]string `json:"metadata"`
}

// MetaBody is the body of the one-key metadata calls: {"meta":{key:value}}.
type MetaBody struct {
	Meta map[string]string `json:"meta"`
}

// UpdateServer changes a server the caller may see (Nova's PUT; the lock
// is not checked, as in Nova) and returns it as applied. Nothing to change
// answers the server as it is, without proposing.
func (o *Ops) UpdateServer(ctx context.Context, id string, u ServerUpdate) (uint64, ServerDetail, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	if u.Name != nil {
		if err := validName("server name", *u.Name); err != nil {
			return 0, ServerDetail{}, err
		}
	}
	if u == (ServerUpdate{}) {
		return o.s.state.Index(), o.s.serverViews().detail(inst), nil
	}
	c := &fsm.UpdateInstance{ID: inst.ID, Name: u.Name, Description: u.Description, AccessIPv4: u.AccessIPv4,
		AccessIPv6: u.AccessIPv6, Hostname: u.Hostname, Time: time.Now().UTC()}
	if err := c.Validate(); err != nil {
		return 0, ServerDetail{}, err
	}
	return o.applyToServer(ctx, c, inst.ID)
}

// ServerMetadata is the metadata of a server the caller may see (never nil).
func (o *Ops) ServerMetadata(ctx context.Context, id string) (map[string]string, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return metadataOf(inst), nil
}

// ServerMetadataItem is one key of a server's metadata; a missing key is
// 404 with Nova's message.
func (o *Ops) ServerMetadataItem(ctx context.Context, id, key string) (string, error) {
	md, err := o.ServerMetadata(ctx, id)
	if err != nil {
		return "", err
	}
	v, ok := md[key]
	if !ok {
		return "", errNoMetadataItem
	}
	return v, nil
}

// errNoMetadataItem is Nova's answer for a key a server's metadata lacks.
var errNoMetadataItem = fmt.Errorf("%w: Metadata item was not found", fsm.ErrNotFound)

// SetServerMetadata merges md into a server's metadata (Nova's POST), or
// makes it the whole metadata when replace (Nova's PUT), and returns the
// metadata as applied. A locked server is 409 unless an admin asks; more
// items than the project's metadata_items is 403 (the FSM's rules).
func (o *Ops) SetServerMetadata(ctx context.Context, id string, md map[string]string, replace bool) (uint64, map[string]string, error) {
	if len(md) == 0 && !replace {
		// Merging nothing changes nothing: the metadata as it is.
		cur, err := o.ServerMetadata(ctx, id)
		return o.s.state.Index(), cur, err
	}
	return o.changeMetadata(ctx, id, &fsm.UpdateInstanceMetadata{Set: md, Replace: replace})
}

// SetServerMetadataItem sets one key of a server's metadata (Nova's PUT of
// one item).
func (o *Ops) SetServerMetadataItem(ctx context.Context, id, key, value string) (uint64, error) {
	idx, _, err := o.changeMetadata(ctx, id, &fsm.UpdateInstanceMetadata{Set: map[string]string{key: value}})
	return idx, err
}

// DeleteServerMetadataItem removes one key of a server's metadata, which
// must be there (404 otherwise, Nova's message).
func (o *Ops) DeleteServerMetadataItem(ctx context.Context, id, key string) (uint64, error) {
	idx, _, err := o.changeMetadata(ctx, id, &fsm.UpdateInstanceMetadata{Delete: []string{key}})
	return idx, err
}

// changeMetadata checks and proposes c on a server the caller may see.
func (o *Ops) changeMetadata(ctx context.Context, id string, c *fsm.UpdateInstanceMetadata) (uint64, map[string]string, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	if err := fsm.ValidMetadata("metadata", c.Set); err != nil {
		return 0, nil, err
	}
	for _, k := range c.Delete {
		if _, ok := inst.Metadata[k]; !ok {
			return 0, nil, errNoMetadataItem
		}
	}
	p := Caller(ctx)
	if err := inst.CheckLock(p.Admin()); err != nil {
		return 0, nil, err
	}
	if err := inst.CheckMetadataState(); err != nil {
		return 0, nil, err
	}
	md := metadataOf(inst)
	if c.Replace {
		md = map[string]string{}
	}
	maps.Copy(md, c.Set)
	if err := o.s.metadataQuota(inst.ProjectID, len(md)-len(c.Delete)); err != nil {
		return 0, nil, err
	}
	c.ID, c.Admin, c.Time = inst.ID, p.Admin(), time.Now().UTC()
	idx, inst, err := applyRead(o.s, ctx, c, "server", inst.ID, o.s.state.Instance)
	if err != nil {
		return idx, nil, err
	}
	return idx, metadataOf(inst), nil
}

// metadataQuota is Apply's metadata_items check made before proposing, so
// that a refused create or change stays out of the log: n items on a
// server of project.
func (s *Server) metadataQuota(project string, n int) error {
	if allowed := s.state.Quota(project).MetadataItems; allowed != fsm.Unlimited && n > allowed {
		return &fsm.QuotaError{Resource: fsm.QuotaMetadataItems, Requested: n, Allowed: allowed}
	}
	return nil
}

func metadataOf(inst fsm.Instance) map[string]string {
	md := maps.Clone(inst.Metadata)
	if md == nil {
		md = map[string]string{}
	}
	return md
}

// LockServer locks a server the caller may see (Nova's lock; reason is
// 2.73's locked_reason, "" for none). Locking one's own locked server
// changes nothing, as in Nova.
func (o *Ops) LockServer(ctx context.Context, id, reason string) (uint64, ServerDetail, error) {
	return o.lock(ctx, id, false, reason)
}

// UnlockServer unlocks a server the caller may see; an admin's lock is an
// admin's to lift (403 otherwise, Nova's unlock_override policy).
func (o *Ops) UnlockServer(ctx context.Context, id string) (uint64, ServerDetail, error) {
	return o.lock(ctx, id, true, "")
}

func (o *Ops) lock(ctx context.Context, id string, unlock bool, reason string) (uint64, ServerDetail, error) {
	c, err := o.s.lockCommand(ctx, id, unlock, reason)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	return o.applyToServer(ctx, c, c.ID)
}

// lockCommand checks a lock or unlock of a server the caller may see and
// builds its command, stamped.
func (s *Server) lockCommand(ctx context.Context, id string, unlock bool, reason string) (*fsm.LockInstance, error) {
	if err := validText("locked_reason", reason, fsm.MaxLockReason); err != nil {
		return nil, err
	}
	inst, err := s.serverFor(ctx, id)
	if err != nil {
		return nil, err
	}
	p := Caller(ctx)
	if unlock && !inst.MayUnlock(p.ProjectID, p.Admin()) {
		return nil, errForbiddenTo("unlocking a server an admin locked")
	}
	return &fsm.LockInstance{ID: inst.ID, Unlock: unlock, Reason: reason, RequestID: RequestID(ctx),
		UserID: p.UserID, ProjectID: p.ProjectID, Admin: p.Admin(), Time: time.Now().UTC()}, nil
}

// ServerRebuild is a rebuild (Nova's): the image (a reference the caller
// sees, as at create), a new name (nil: kept) and the whole metadata (nil:
// kept).
type ServerRebuild struct {
	Image    string
	Name     *string
	Metadata map[string]string
	// Description, KeyName (one of the caller's keypairs; "" drops the key)
	// and UserData (base64; "" drops it): nil keeps them (Nova 2.19, 2.54,
	// 2.57).
	Description *string
	KeyName     *string
	UserData    *string
}

// RebuildServer rebuilds a server the caller may see on its host from an
// image (same ID, flavor, addresses; a fresh disk): 202 at once, status
// REBUILD until the host reports. Nova's rules: ACTIVE, SHUTOFF or ERROR
// with no task (409), a lock (409), an image it cannot see (400), one the
// flavor cannot hold (400).
func (o *Ops) RebuildServer(ctx context.Context, id string, req ServerRebuild) (uint64, ServerDetail, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	c, err := o.s.rebuildCommand(ctx, inst, req)
	if err != nil {
		return 0, ServerDetail{}, err
	}
	return o.applyToServer(ctx, c, inst.ID)
}

// rebuildCommand checks a rebuild of inst and builds its command, stamped.
func (s *Server) rebuildCommand(ctx context.Context, inst fsm.Instance, req ServerRebuild) (*fsm.RebuildInstance, error) {
	if err := validRef("image", req.Image); err != nil {
		return nil, err
	}
	if req.Name != nil {
		if err := validName("server name", *req.Name); err != nil {
			return nil, err
		}
	}
	if err := fsm.ValidMetadata("metadata", req.Metadata); err != nil {
		return nil, err
	}
	p := Caller(ctx)
	if err := inst.CheckLock(p.Admin()); err != nil {
		return nil, err
	}
	if err := inst.CheckRebuild(); err != nil {
		return nil, err
	}
	img, err := s.imageFor(ctx, req.Image)
	if err != nil {
		return nil, badRef("image", req.Image, err)
	}
	if err := imageFits(inst.Flavor, img); err != nil {
		return nil, err
	}
	if req.Metadata != nil {
		if err := s.metadataQuota(inst.ProjectID, len(req.Metadata)); err != nil {
			return nil, err
		}
	}
	cmd := &fsm.RebuildInstance{ID: inst.ID, ImageID: img.ID, Name: req.Name, ReplaceMetadata: req.Metadata != nil,
		Metadata: req.Metadata, Description: req.Description, KeyName: req.KeyName, UserData: req.UserData,
		RequestID: RequestID(ctx), UserID: p.UserID, ProjectID: p.ProjectID, Admin: p.Admin(), Time: time.Now().UTC()}
	if req.KeyName != nil {
		if cmd.KeyData, err = s.serverKey(p.UserID, *req.KeyName); err != nil {
			return nil, err
		}
	}
	if req.UserData != nil {
		if err := fsm.ValidUserData(*req.UserData); err != nil {
			return nil, err
		}
	}
	if req.Description != nil {
		if err := validText("description", *req.Description, fsm.MaxServerDescription); err != nil {
			return nil, err
		}
	}
	return cmd, nil
}

// DeletedServers are the deleted servers still on record (the last
// fsm.MaxDeletedInstances) that went at or after since, in the order they
// went: the caller's project's, or every project's when all (an admin's;
// 403 otherwise). They feed changes-since listings and usage.
func (o *Ops) DeletedServers(ctx context.Context, since time.Time, all bool) ([]fsm.DeletedInstance, error) {
	p := Caller(ctx)
	var keep func(*fsm.Instance) bool
	switch {
	case all && !p.Admin():
		return nil, errForbiddenTo("listing the servers of every project")
	case !all:
		keep = fsm.InProject(p.ProjectID)
	}
	return o.s.state.DeletedInstances(since, keep), nil
}

// DeletedServer is the record of a deleted server of the caller's project
// (any for an admin), for the action log of a server that went (Nova 2.21).
func (o *Ops) DeletedServer(ctx context.Context, id string) (fsm.DeletedInstance, error) {
	d, err := o.s.state.DeletedInstance(id)
	if err == nil && !Caller(ctx).Sees(d.ProjectID) {
		return fsm.DeletedInstance{}, fmt.Errorf("%w: deleted server %q", fsm.ErrNotFound, id)
	}
	return d, err
}

// The /v1 routes of the above.
func (s *Server) serverUpdateRoutes() {
	s.route("PUT /v1/servers/{id}", AccessProjectMember, s.updateServer)
	s.read("GET /v1/servers/{id}/metadata", AccessProjectReader, s.showServerMetadata)
	s.route("POST /v1/servers/{id}/metadata", AccessProjectMember, s.mergeServerMetadata)
	s.route("PUT /v1/servers/{id}/metadata", AccessProjectMember, s.replaceServerMetadata)
	s.read("GET /v1/servers/{id}/metadata/{key}", AccessProjectReader, s.showServerMetadataItem)
	s.route("PUT /v1/servers/{id}/metadata/{key}", AccessProjectMember, s.setServerMetadataItem)
	s.route("DELETE /v1/servers/{id}/metadata/{key}", AccessProjectMember, s.deleteServerMetadataItem)
}

// updateServer is PUT /v1/servers/{id} with {"server":{name, description,
// accessIPv4, accessIPv6}}; it answers the server.
func (s *Server) updateServer(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Server *ServerUpdate `json:"server"`
	}
	err := decodeBody(w, r, &body)
	if err == nil && body.Server == nil {
		err = fmt.Errorf("%w: the body must be {\"server\":{...}}", fsm.ErrInvalid)
	}
	var idx uint64
	var d ServerDetail
	if err == nil {
		idx, d, err = s.ops.UpdateServer(r.Context(), r.PathValue("id"), *body.Server)
	}
	s.writeFound(w, r, idx, err, func() any { return ServerResponse{Server: d} })
}

func (s *Server) showServerMetadata(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	md, err := s.ops.ServerMetadata(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return MetadataBody{Metadata: md} })
}

func (s *Server) mergeServerMetadata(w http.ResponseWriter, r *http.Request) {
	s.setServerMetadata(w, r, false)
}

func (s *Server) replaceServerMetadata(w http.ResponseWriter, r *http.Request) {
	s.setServerMetadata(w, r, true)
}

// setServerMetadata takes {"metadata":{…}} and answers the whole metadata
// as applied (200, as Nova).
func (s *Server) setServerMetadata(w http.ResponseWriter, r *http.Request, replace bool) {
	var body MetadataBody
	err := decodeBody(w, r, &body)
	if err == nil && body.Metadata == nil {
		err = fmt.Errorf("%w: the body must be {\"metadata\":{...}}", fsm.ErrInvalid)
	}
	var idx uint64
	var md map[string]string
	if err == nil {
		idx, md, err = s.ops.SetServerMetadata(r.Context(), r.PathValue("id"), body.Metadata, replace)
	}
	s.writeFound(w, r, idx, err, func() any { return MetadataBody{Metadata: md} })
}

func (s *Server) showServerMetadataItem(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	key := r.PathValue("key")
	v, err := s.ops.ServerMetadataItem(r.Context(), r.PathValue("id"), key)
	s.writeFound(w, r, idx, err, func() any { return MetaBody{Meta: map[string]string{key: v}} })
}

// setServerMetadataItem takes {"meta":{key:value}} with the key of the
// path, and only it (Nova's 400 "Request body and URI mismatch").
func (s *Server) setServerMetadataItem(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	var body MetaBody
	err := decodeBody(w, r, &body)
	v, ok := body.Meta[key]
	switch {
	case err != nil:
	case len(body.Meta) > 1:
		err = fmt.Errorf("%w: Request body contains too many items", fsm.ErrInvalid)
	case !ok:
		err = fmt.Errorf("%w: Request body and URI mismatch", fsm.ErrInvalid)
	}
	var idx uint64
	if err == nil {
		idx, err = s.ops.SetServerMetadataItem(r.Context(), r.PathValue("id"), key, v)
	}
	s.writeFound(w, r, idx, err, func() any { return MetaBody{Meta: map[string]string{key: v}} })
}

func (s *Server) deleteServerMetadataItem(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteServerMetadataItem(r.Context(), r.PathValue("id"), r.PathValue("key"))
	s.writeNoContent(w, r, idx, err)
}
