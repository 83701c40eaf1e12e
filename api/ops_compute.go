package api

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Flavors, keypairs and server groups.

// FlavorCreate is a flavor to create: ID "" gets a UUID; Disk 0 takes the
// image's size. Nova's other fields: Swap (MiB) and Ephemeral (GiB), 0 for
// none; RxtxFactor 0 for Nova's 1.0; Private for is_public false (a
// private flavor starts with no project on its access list).
type FlavorCreate struct {
	ID          string
	Name        string
	VCPUs       int
	RAM         int // MiB
	Disk        int // GiB
	Swap        int
	Ephemeral   int
	RxtxFactor  float64
	Description string
	Private     bool
}

// Flavors are the flavors the caller sees: every public one, the private
// ones its project is given access to; an admin sees all.
func (o *Ops) Flavors(ctx context.Context) []fsm.Flavor {
	p := Caller(ctx)
	flavors := []fsm.Flavor{}
	for _, f := range o.s.state.Flavors() {
		if seesFlavor(p, f) {
			flavors = append(flavors, f)
		}
	}
	return flavors
}

// Flavor is a flavor the caller sees by ID, else by name; a private one
// it has no access to is absent.
func (o *Ops) Flavor(ctx context.Context, ref string) (fsm.Flavor, error) {
	return o.s.flavorFor(ctx, ref)
}

// CreateFlavor validates and creates a flavor; a taken ID or name is 409.
func (o *Ops) CreateFlavor(ctx context.Context, req FlavorCreate) (uint64, fsm.Flavor, error) {
	public := !req.Private
	fr := flavorRequest{Name: &req.Name, VCPUs: &req.VCPUs, RAM: &req.RAM, Disk: &req.Disk, Swap: &req.Swap,
		Ephemeral: &req.Ephemeral, Description: &req.Description, IsPublic: &public}
	if req.RxtxFactor != 0 {
		fr.RxtxFactor = &req.RxtxFactor
	}
	if req.ID != "" {
		fr.ID = &req.ID
	}
	f, err := fr.flavor()
	if err != nil {
		return 0, f, err
	}
	return o.createFlavor(ctx, f)
}

func (o *Ops) createFlavor(ctx context.Context, f fsm.Flavor) (uint64, fsm.Flavor, error) {
	if err := o.s.uniqueFlavor(f); err != nil {
		return 0, f, err
	}
	f.Created = time.Now().UTC()
	return applyRead(o.s, ctx, &fsm.CreateFlavor{Flavor: f}, "flavor", f.ID, o.s.state.Flavor)
}

// DeleteFlavor deletes a flavor by ID or name.
func (o *Ops) DeleteFlavor(ctx context.Context, ref string) (uint64, error) {
	f, err := o.s.flavorFor(ctx, ref)
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteFlavor{ID: f.ID})
}

// keyPairUser is whose keypairs a call is about: user, or the caller when
// "". Another user's are an admin's (Nova's policy: admin or owner).
func keyPairUser(ctx context.Context, user string) (string, error) {
	if err := validText("user_id", user, maxResourceRef); err != nil {
		return "", err
	}
	p := Caller(ctx)
	switch {
	case user == "" || user == p.UserID:
		return p.UserID, nil
	case !p.Admin():
		return "", errForbiddenTo("using the keypairs of another user")
	}
	return user, nil
}

// KeyPairs are user's keypairs ("": the caller's), ordered by name.
func (o *Ops) KeyPairs(ctx context.Context, user string) ([]KeyPair, error) {
	user, err := keyPairUser(ctx, user)
	if err != nil {
		return nil, err
	}
	out := []KeyPair{}
	for _, k := range o.s.state.KeyPairsOf(user) {
		out = append(out, keyPairView(k))
	}
	return out, nil
}

// KeyPair is user's keypair name ("": the caller's).
func (o *Ops) KeyPair(ctx context.Context, user, name string) (KeyPair, error) {
	user, err := keyPairUser(ctx, user)
	if err != nil {
		return KeyPair{}, err
	}
	k, err := o.s.state.KeyPair(user, name)
	return keyPairView(k), err
}

// CreateKeyPair imports req.PublicKey, or generates a key when it is "":
// then the answer's PrivateKey holds it, the one time it is ever shown.
// req.UserID makes it for another user (an admin's).
func (o *Ops) CreateKeyPair(ctx context.Context, req KeyPairCreate) (uint64, KeyPair, error) {
	r := keyPairCreateRequest{Name: req.Name, Type: req.Type, UserID: req.UserID}
	if req.PublicKey != "" {
		r.PublicKey = &req.PublicKey
	}
	return o.createKeyPair(ctx, r)
}

func (o *Ops) createKeyPair(ctx context.Context, req keyPairCreateRequest) (uint64, KeyPair, error) {
	k, private, err := o.s.newKeyPair(ctx, req)
	if err != nil {
		return 0, KeyPair{}, err
	}
	read := func(name string) (fsm.KeyPair, error) { return o.s.state.KeyPair(k.UserID, name) }
	idx, created, err := applyRead(o.s, ctx, &fsm.CreateKeyPair{KeyPair: k}, "keypair", k.Name, read)
	if err != nil {
		return idx, KeyPair{}, err
	}
	view := keyPairView(created)
	view.PrivateKey = private
	return idx, view, nil
}

// DeleteKeyPair deletes user's keypair name ("": the caller's).
func (o *Ops) DeleteKeyPair(ctx context.Context, user, name string) (uint64, error) {
	user, err := keyPairUser(ctx, user)
	if err != nil {
		return 0, err
	}
	k, err := o.s.state.KeyPair(user, name)
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteKeyPair{UserID: k.UserID, Name: k.Name})
}

// ServerGroups are the caller's project's server groups, or every
// project's with all (an admin's: 403 otherwise); members never null.
func (o *Ops) ServerGroups(ctx context.Context, all bool) ([]fsm.ServerGroup, error) {
	scope, err := scopeOf(Caller(ctx), all, "", "server groups")
	if err != nil {
		return nil, err
	}
	return o.serverGroups(scope), nil
}

func (o *Ops) serverGroups(scope tenantScope) []fsm.ServerGroup {
	groups := []fsm.ServerGroup{}
	for _, g := range o.s.state.ServerGroups() {
		if scope.has(g.ProjectID) {
			groups = append(groups, withMembers(g))
		}
	}
	return groups
}

// ServerGroup is a group the caller sees, by ID, else by a name unique
// among those.
func (o *Ops) ServerGroup(ctx context.Context, ref string) (fsm.ServerGroup, error) {
	g, err := o.s.serverGroupFor(ctx, ref)
	return withMembers(g), err
}

// CreateServerGroup makes a group of the caller's project with one of
// Nova's policies.
func (o *Ops) CreateServerGroup(ctx context.Context, req ServerGroupCreate) (uint64, fsm.ServerGroup, error) {
	if err := validName("server group name", req.Name); err != nil {
		return 0, fsm.ServerGroup{}, err
	}
	if !fsm.ValidPolicy(req.Policy) {
		return 0, fsm.ServerGroup{}, fmt.Errorf("%w: policy %q: use affinity, anti-affinity, soft-affinity or soft-anti-affinity", fsm.ErrInvalid, truncate(req.Policy))
	}
	switch {
	case req.MaxServerPerHost < 0:
		return 0, fsm.ServerGroup{}, fmt.Errorf("%w: max_server_per_host must be at least 1", fsm.ErrInvalid)
	case req.MaxServerPerHost > 0 && req.Policy != fsm.PolicyAntiAffinity:
		return 0, fsm.ServerGroup{}, fmt.Errorf("%w: Only anti-affinity policy supports rules.", fsm.ErrInvalid)
	}
	p := Caller(ctx)
	g := fsm.ServerGroup{ID: uuid.NewString(), Name: req.Name, Policy: req.Policy, MaxServerPerHost: req.MaxServerPerHost,
		ProjectID: p.ProjectID, UserID: p.UserID, Created: time.Now().UTC()}
	idx, created, err := applyRead(o.s, ctx, &fsm.CreateServerGroup{Group: g}, "server group", g.ID, o.s.state.ServerGroup)
	return idx, withMembers(created), err
}

// DeleteServerGroup deletes a group the caller sees.
func (o *Ops) DeleteServerGroup(ctx context.Context, ref string) (uint64, error) {
	g, err := o.s.serverGroupFor(ctx, ref)
	if err != nil {
		return 0, err
	}
	return o.s.apply(ctx, &fsm.DeleteServerGroup{ID: g.ID})
}
