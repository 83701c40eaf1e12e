package api

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// Server tags (Nova 2.26) and what later microversions let a create ask
// for (description, tags, hostname, a requested host). The rules are
// fsm's (tags: fsm.NormalTags and Apply's state check); these check them
// before proposing and stamp the time.

// ServerTags are the tags of a server the caller may see (never nil).
func (o *Ops) ServerTags(ctx context.Context, id string) ([]string, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return nil, err
	}
	return tagsOf(inst), nil
}

// AddServerTag puts tag on a server; added says it was not there before
// (Nova answers 201 then, 204 otherwise).
func (o *Ops) AddServerTag(ctx context.Context, id, tag string) (idx uint64, added bool, err error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, false, err
	}
	if err := inst.CheckTagState("update tag"); err != nil {
		return 0, false, err
	}
	if err := fsm.ValidTag(tag); err != nil {
		return 0, false, err
	}
	if slices.Contains(inst.Tags, tag) {
		return o.s.state.Index(), false, nil
	}
	if len(inst.Tags) >= fsm.MaxInstanceTags {
		return 0, false, fmt.Errorf("%w: The number of tags exceeded the per-server limit %d", fsm.ErrInvalid, fsm.MaxInstanceTags)
	}
	idx, err = o.s.apply(ctx, &fsm.AddInstanceTag{ID: inst.ID, Tag: tag, Time: time.Now().UTC()})
	return idx, err == nil, err
}

// DeleteServerTag takes tag off a server ("" takes them all); a tag the
// server lacks is 404.
func (o *Ops) DeleteServerTag(ctx context.Context, id, tag string) (uint64, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, err
	}
	action := "delete tags"
	if tag != "" {
		action = "delete tag"
	}
	if err := inst.CheckTagState(action); err != nil {
		return 0, err
	}
	if tag != "" && !slices.Contains(inst.Tags, tag) {
		return 0, fmt.Errorf("%w: Instance %s has no tag '%s'", fsm.ErrNotFound, inst.ID, tag)
	}
	return o.s.apply(ctx, &fsm.DeleteInstanceTag{ID: inst.ID, Tag: tag, Time: time.Now().UTC()})
}

// SetServerTags makes tags all of a server's tags and answers them as
// applied.
func (o *Ops) SetServerTags(ctx context.Context, id string, tags []string) (uint64, []string, error) {
	inst, err := o.s.serverFor(ctx, id)
	if err != nil {
		return 0, nil, err
	}
	if err := inst.CheckTagState("update tags"); err != nil {
		return 0, nil, err
	}
	if _, err := fsm.NormalTags(tags); err != nil {
		return 0, nil, err
	}
	c := &fsm.SetInstanceTags{ID: inst.ID, Tags: tags, Time: time.Now().UTC()}
	idx, inst, err := applyRead(o.s, ctx, c, "server", inst.ID, o.s.state.Instance)
	return idx, tagsOf(inst), err
}

func tagsOf(inst fsm.Instance) []string {
	if inst.Tags == nil {
		return []string{}
	}
	return slices.Clone(inst.Tags)
}

// requestedHost is the host a create is held to: the one its zone forces
// ("zone:host"), or the one it requests (Nova 2.74's host, an admin's,
// which must be registered), never both.
func (s *Server) requestedHost(ctx context.Context, forced, requested string) (string, error) {
	switch {
	case requested == "":
		return forced, nil
	case !Caller(ctx).Admin():
		return "", errForbiddenTo("compute:servers:create:requested_destination")
	case forced != "":
		return "", fmt.Errorf("%w: One mechanism with host and/or hypervisor_hostname and another mechanism with "+
			"zone:host:node are mutually exclusive.", fsm.ErrInvalid)
	}
	if _, err := s.state.Host(requested); err != nil {
		return "", badRef("compute host", requested, err)
	}
	return requested, nil
}

// createTags checks what a create adds to each server: its tags (once
// each, at most fsm.MaxInstanceTags) and the hostname it asks for, which
// names one server only (Nova's 400 for several).
func createTags(tags []string, hostname string, count int) ([]string, error) {
	if hostname != "" {
		if count > 1 {
			return nil, fmt.Errorf("%w: Unable to allocate a single hostname to multiple instances", fsm.ErrInvalid)
		}
		if err := fsm.ValidHostname(hostname); err != nil {
			return nil, err
		}
	}
	return fsm.NormalTags(tags)
}

// hostnameOf is a new server's hostname: the one asked for, else Nova's
// derived from its name ("Server-<id>" when nothing of it is usable).
func hostnameOf(asked, name, id string) string {
	if asked != "" {
		return asked
	}
	return fsm.SanitizeHostname(name, "Server-"+id)
}
