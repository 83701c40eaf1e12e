package api

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/shoal-project/shoal/fsm"
)

// The rules behind Nova's proxy APIs (os-floating-ips, the images proxy's
// metadata): what those calls do beyond the Ops /v1 shares, kept here so a
// module only reads and renders.

// DefaultFloatingPool is the external network a floating IP comes from
// when the request names none (Nova's [neutron] default_floating_pool):
// the cluster's one external network. None, or several, is absent.
func (o *Ops) DefaultFloatingPool(ctx context.Context) (Network, error) {
	var out []Network
	for _, n := range o.s.state.Networks() {
		if n.External {
			out = append(out, networkView(n))
		}
	}
	if len(out) != 1 {
		return Network{}, fmt.Errorf("%w: no default floating IP pool: the cluster has %d external networks; name one", fsm.ErrNotFound, len(out))
	}
	return out[0], nil
}

// MoveFloatingIP associates a floating IP the caller sees (by ID or
// address) with fixedIP of server serverID ("": its one fixed IP),
// detaching it first from wherever it is, as Neutron's update of port_id
// does. A fixed IP that has another floating IP is 409, refused before
// anything is proposed (Apply refuses it again); should the association
// still be refused, the floating IP goes back where it was.
func (o *Ops) MoveFloatingIP(ctx context.Context, ref, serverID, fixedIP string) (uint64, FloatingIP, error) {
	f, err := o.FloatingIP(ctx, ref)
	if err != nil {
		return 0, f, err
	}
	inst, err := o.s.serverFor(ctx, serverID)
	if err != nil {
		return 0, f, err
	}
	fixed := fixedIP
	if fixed == "" && len(inst.Addresses) > 0 {
		fixed = inst.Addresses[0].IP
	}
	if f.ServerID == inst.ID && (fixedIP == "" || f.FixedIP == fixedIP) {
		return o.s.state.Index(), f, nil
	}
	for _, other := range o.s.state.FloatingIPs(func(g *fsm.FloatingIP) bool { return g.InstanceID == inst.ID && g.FixedIP == fixed }) {
		if other.ID != f.ID {
			return 0, f, fmt.Errorf("%w: fixed IP %s of server %s already has floating IP %s", fsm.ErrConflict, fixed, inst.ID, other.IP)
		}
	}
	if f.ServerID != "" {
		if _, _, err := o.DisassociateFloatingIP(ctx, f.ID); err != nil {
			return 0, f, err
		}
	}
	idx, moved, err := o.AssociateFloatingIP(ctx, f.ID, inst.ID, fixedIP)
	if err != nil && f.ServerID != "" {
		_, _, _ = o.AssociateFloatingIP(ctx, f.ID, f.ServerID, f.FixedIP)
	}
	return idx, moved, err
}

// SetImageProperties merges props into the extra properties of an image
// the caller may change (Nova's POST …/images/{id}/metadata), or makes
// them the whole set with replace (its PUT). The properties the image
// would have count against the caller's project's metadata_items (403
// otherwise, as Nova's image metadata proxy checks). It answers the
// properties as applied.
func (o *Ops) SetImageProperties(ctx context.Context, ref string, props map[string]string, replace bool) (uint64, map[string]string, error) {
	img, err := o.s.imageToChange(ctx, ref)
	if err != nil {
		return 0, nil, err
	}
	if err := fsm.ValidMetadata("metadata", props); err != nil {
		return 0, nil, err
	}
	next := maps.Clone(props)
	if !replace {
		next = maps.Clone(img.Properties)
		if next == nil {
			next = map[string]string{}
		}
		maps.Copy(next, props)
	}
	if err := o.s.metadataQuota(Caller(ctx).ProjectID, len(next)); err != nil {
		return 0, nil, err
	}
	var changes []fsm.ImageChange
	if replace {
		for _, k := range slices.Sorted(maps.Keys(img.Properties)) {
			if _, ok := props[k]; !ok {
				changes = append(changes, fsm.ImageChange{Op: fsm.ImageOpRemove, Property: k})
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if v, ok := img.Properties[k]; !ok || v != props[k] {
			changes = append(changes, fsm.ImageChange{Op: fsm.ImageOpAdd, Property: k, Value: props[k]})
		}
	}
	idx, img, err := o.UpdateImage(ctx, img.ID, changes)
	return idx, propertiesOf(img), err
}

// DeleteImageProperty removes one extra property of an image the caller
// may change; one it does not have is 404.
func (o *Ops) DeleteImageProperty(ctx context.Context, ref, key string) (uint64, error) {
	img, err := o.s.imageToChange(ctx, ref)
	if err != nil {
		return 0, err
	}
	if _, ok := img.Properties[key]; !ok {
		return 0, fmt.Errorf("%w: image %s has no property %q", fsm.ErrNotFound, img.ID, truncate(key))
	}
	idx, _, err := o.UpdateImage(ctx, img.ID, []fsm.ImageChange{{Op: fsm.ImageOpRemove, Property: key}})
	return idx, err
}

// propertiesOf is an image's extra properties, never nil.
func propertiesOf(img fsm.Image) map[string]string {
	if img.Properties == nil {
		return map[string]string{}
	}
	return maps.Clone(img.Properties)
}
