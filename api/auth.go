package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/cluster/pki"
	"github.com/shoal-project/shoal/fsm"
)

// Headers of authentication, Keystone's names.
const (
	// HeaderAuthToken carries the caller's token on every request.
	HeaderAuthToken = "X-Auth-Token"
	// HeaderSubjectToken carries the token issued (POST /auth/tokens) or the
	// one to validate or revoke.
	HeaderSubjectToken = "X-Subject-Token"
)

// Auth is what the API needs to authenticate callers and issue tokens. Every
// API has one: there is no unauthenticated mode.
type Auth struct {
	// Signer signs the tokens this node issues with its own key; the public
	// half must be published in Raft for other nodes to verify them.
	Signer *identity.Signer
	// TokenTTL is how long an issued token lives; 0 means DefaultTokenTTL.
	TokenTTL time.Duration
	// Throttle answers failed logins slowly and counts them; nil means one
	// with identity.DefaultFailedLoginDelay.
	Throttle *identity.Throttle
	// Now is the clock tokens are issued and validated by; nil means time.Now.
	Now func() time.Time
}

// DefaultTokenTTL is Keystone's default token lifetime.
const DefaultTokenTTL = 12 * time.Hour

func (a *Auth) withDefaults() {
	if a.TokenTTL <= 0 {
		a.TokenTTL = DefaultTokenTTL
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.Throttle == nil {
		a.Throttle = identity.NewThrottle(identity.DefaultFailedLoginDelay, a.Now, nil)
	}
}

// Principal is who makes a request: the token's user and project, with the
// roles the user holds on that project now (read live, never from the token).
type Principal struct {
	UserID      string
	UserName    string
	ProjectID   string
	ProjectName string
	Roles       []string // names, ordered
	Claims      identity.Claims
	// Node is set instead of all the above on a request another node makes
	// on its own behalf: the name in the node certificate it presented.
	Node string
}

// Has reports whether the principal holds role. Keystone's default roles
// imply each other: admin implies member, member implies reader.
func (p Principal) Has(role string) bool {
	switch role {
	case fsm.RoleReader:
		return slices.Contains(p.Roles, fsm.RoleReader) || p.Has(fsm.RoleMember)
	case fsm.RoleMember:
		return slices.Contains(p.Roles, fsm.RoleMember) || p.Has(fsm.RoleAdmin)
	}
	return slices.Contains(p.Roles, role)
}

// Admin reports whether the principal is a cloud administrator: it holds the
// admin role (on any project, as in Nova's and Keystone's default policy).
func (p Principal) Admin() bool { return p.Has(fsm.RoleAdmin) }

// Sees reports whether an object of projectID is the principal's to see:
// its own project's, or any for an admin. Another project's object is
// answered as absent (404), as Nova does.
func (p Principal) Sees(projectID string) bool {
	return p.Admin() || (projectID != "" && projectID == p.ProjectID)
}

type principalKey struct{}

// Caller returns who makes the request; the zero Principal on the
// routes open to all.
func Caller(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

type tokenKey struct{}

// tokenOf is the token the request was authenticated with, or "": what a
// request this node makes to another on the caller's behalf carries (a
// console log read on the server's host), so that node checks it again.
func tokenOf(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}

// errUnauthenticated is all a refused caller learns: the precise reason goes
// to the log only.
var errUnauthenticated = fmt.Errorf("%w: the request you have made requires authentication", fsm.ErrUnauthorized)

// authenticate turns the request's token into its principal, from this
// node's replica alone.
func (s *Server) authenticate(r *http.Request) (Principal, error) {
	token := r.Header.Get(HeaderAuthToken)
	if token == "" {
		return Principal{}, errUnauthenticated
	}
	p, err := s.principalFor(token)
	if mayLag(err) && s.trySync(r.Context()) {
		// Made through another node a moment ago (a new user, a role just
		// granted, a node's key just published): this replica may not have
		// it yet.
		p, err = s.principalFor(token)
	}
	if err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "api: token refused",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("reason", err.Error()), slog.String("request_id", RequestID(r.Context())))
		return Principal{}, errUnauthenticated
	}
	return p, nil
}

// errNotNode is the 403 of a request to a node-only route without a
// verified node certificate of this cluster: a user's token, even the
// admin's, does not open it. (The cluster's HTTPS handler refuses such a
// request before the API sees it; this is the API's own check.)
var errNotNode = fmt.Errorf("%w: internal endpoints take only a node certificate of this cluster", fsm.ErrForbidden)

// authenticatePeer names the node at the other end of the request's
// connection from its certificate, which the listener verified against the
// cluster CA, and refuses one the replica has revoked (a connection opened
// before its node was removed).
func (s *Server) authenticatePeer(r *http.Request) (Principal, error) {
	name, serial, ok := pki.NodePeer(r.TLS)
	if !ok || s.state.NodeCertRevoked(serial) {
		reason := "no node certificate"
		if ok {
			reason = "node certificate " + serial + " of " + name + " revoked"
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "api: internal request refused",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("reason", reason), slog.String("request_id", RequestID(r.Context())))
		return Principal{}, errNotNode
	}
	return Principal{Node: name}, nil
}

// mayLag reports whether a token refusal may only mean that this replica
// has not applied a recent write yet.
func mayLag(err error) bool {
	for _, e := range []error{identity.ErrUnknownKey, identity.ErrUserNotFound, identity.ErrProjectNotFound, identity.ErrNoRole} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// principalFor parses and validates token and reads who it names.
func (s *Server) principalFor(token string) (Principal, error) {
	view := identityView{s.state}
	claims, err := identity.Parse(token, view)
	if err != nil {
		return Principal{}, err
	}
	if err := identity.Validate(claims, s.auth.Now(), view); err != nil {
		return Principal{}, err
	}
	user, err := s.state.User(claims.UserID)
	if err != nil {
		return Principal{}, identity.ErrUserNotFound
	}
	project, err := s.state.Project(claims.ProjectID)
	if err != nil {
		return Principal{}, identity.ErrProjectNotFound
	}
	p := Principal{UserID: user.ID, UserName: user.Name, ProjectID: project.ID, ProjectName: project.Name, Claims: claims}
	for _, role := range s.state.RolesOf(user.ID, project.ID) {
		p.Roles = append(p.Roles, role.Name)
	}
	return p, nil
}

// identityView is the replica as token validation sees it.
type identityView struct{ state State }

var (
	_ identity.State     = identityView{}
	_ identity.KeySource = identityView{}
)

func (v identityView) PublicKey(kid string) (ed25519.PublicKey, time.Time, bool) {
	k, err := v.state.SigningKey(kid)
	if err != nil || len(k.PublicKey) != ed25519.PublicKeySize {
		return nil, time.Time{}, false
	}
	return ed25519.PublicKey(k.PublicKey), k.Retired, true
}

func (v identityView) User(id string) (identity.UserInfo, bool) {
	u, err := v.state.User(id)
	if err != nil || u.ID != id {
		return identity.UserInfo{}, false
	}
	return identity.UserInfo{Enabled: u.Enabled, TokensValidAfter: u.TokensValidAfter}, true
}

func (v identityView) ProjectEnabled(id string) (enabled, exists bool) {
	p, err := v.state.Project(id)
	if err != nil || p.ID != id {
		return false, false
	}
	return p.Enabled, true
}

func (v identityView) HasRole(userID, projectID string) bool {
	return len(v.state.RolesOf(userID, projectID)) > 0
}

func (v identityView) Revoked(auditID string) bool { return v.state.TokenRevoked(auditID) }

// errPolicy is the 403 of a caller whose roles do not allow the request.
func errPolicy(r *http.Request) error { return errForbiddenTo(r.Method + " " + r.URL.Path) }

// errForbiddenTo is the 403 of a caller whose roles do not allow what.
func errForbiddenTo(what string) error {
	return fmt.Errorf("%w: policy does not allow %s to be performed", fsm.ErrForbidden, what)
}
