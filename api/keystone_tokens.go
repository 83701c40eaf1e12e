package api

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/fsm"
)

// authRequest is Keystone's POST /auth/tokens body, password method only.
// Decoding is strict: a field Keystone's schema does not know is a 400.
type authRequest struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *authUser `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope *authScope `json:"scope"`
	} `json:"auth"`
}

type authUser struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Domain   *domainRef `json:"domain"`
	Password string     `json:"password"`
}

type domainRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// authScope is the token's scope: a project. Keystone's other scopes
// (domain, system, trust) do not exist here and are refused as malformed.
type authScope struct {
	Project *struct {
		ID     string     `json:"id"`
		Name   string     `json:"name"`
		Domain *domainRef `json:"domain"`
	} `json:"project"`
}

// loginRequest is a checked authRequest: who, with what password, scoped how.
type loginRequest struct {
	user                 authUser
	projectID, project   string // by ID, or by name in the default domain
	projectDomainDefault bool   // the named project's domain is the default one
}

// throttleName is the name a failed login is counted under.
func (l loginRequest) throttleName() string {
	if l.user.ID != "" {
		return l.user.ID
	}
	return l.user.Name
}

// parseLogin decodes and checks a login body; every error is a 400.
func parseLogin(w http.ResponseWriter, r *http.Request) (loginRequest, error) {
	var req authRequest
	if err := decodeBody(w, r, &req); err != nil {
		return loginRequest{}, err
	}
	bad := func(msg string) (loginRequest, error) {
		return loginRequest{}, fmt.Errorf("%w: %s", fsm.ErrInvalid, msg)
	}
	a := req.Auth
	switch {
	case a == nil:
		return bad("'auth' is a required property")
	case a.Identity == nil:
		return bad("'identity' is a required property")
	case len(a.Identity.Methods) == 0:
		return bad("'methods' is a required property")
	}
	for _, m := range a.Identity.Methods {
		if m != "password" {
			return bad(fmt.Sprintf("authentication method %q is not supported: only password is", m))
		}
	}
	if a.Identity.Password == nil || a.Identity.Password.User == nil {
		return bad("the password method needs 'password': {'user': {...}}")
	}
	u := *a.Identity.Password.User
	switch {
	case u.ID == "" && u.Name == "":
		return bad("a user needs an id or a name")
	case u.ID == "" && u.Domain == nil:
		return bad("a user named by name needs its domain")
	case u.Domain != nil && u.Domain.ID == "" && u.Domain.Name == "":
		return bad("a domain needs an id or a name")
	}
	l := loginRequest{user: u}
	if a.Scope == nil {
		return l, nil
	}
	p := a.Scope.Project
	switch {
	case p == nil:
		return bad("the scope must be a project: domain and system scopes are not supported")
	case p.ID == "" && p.Name == "":
		return bad("a project scope needs an id or a name")
	case p.ID == "" && p.Domain == nil:
		return bad("a project named by name needs its domain")
	case p.Domain != nil && p.Domain.ID == "" && p.Domain.Name == "":
		return bad("a domain needs an id or a name")
	}
	if p.ID != "" {
		l.projectID = p.ID
	} else {
		l.project = p.Name
		l.projectDomainDefault = isDefaultDomain(p.Domain.ID, p.Domain.Name)
	}
	return l, nil
}

// errNeedsScope is the 401 of a user with the right password but no project
// to scope to: shoal issues no unscoped tokens.
var errNeedsScope = fmt.Errorf("%w: the user has no default project: scope the request to a project (auth.scope.project)", fsm.ErrUnauthorized)

// login is POST /auth/tokens: password authentication. It reads only this
// node's replica and writes nothing to Raft, so it works on a node without a
// leader (dispatch does not Sync it). Every failure of the credentials is
// the same slow 401; only the log says which it was, never with the password.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	started := s.auth.Now()
	req, err := parseLogin(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	claims, err := s.checkLogin(req, started)
	if errors.Is(err, errNeedsScope) {
		s.writeError(w, r, err)
		return
	}
	if err != nil {
		werr := s.auth.Throttle.Failed(r.Context(), req.throttleName(), started)
		// Counted: per user name and in all, for an operator to spot guessing.
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "api: login refused",
			slog.String("user", req.throttleName()), slog.String("reason", err.Error()),
			slog.Uint64("failures", s.auth.Throttle.Failures(req.throttleName())),
			slog.Uint64("failures_total", s.auth.Throttle.Total()),
			slog.String("remote", r.RemoteAddr), slog.String("request_id", RequestID(r.Context())))
		if werr != nil {
			return // the client went away while held
		}
		s.writeError(w, r, errUnauthenticated)
		return
	}
	token, err := s.auth.Signer.Issue(claims)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.principalFor(token)
	if err != nil { // the replica changed since checkLogin: refuse as any failure
		s.writeError(w, r, errUnauthenticated)
		return
	}
	w.Header().Set(HeaderSubjectToken, token)
	WriteJSON(w, http.StatusCreated, s.tokenBody(r, p))
}

// checkLogin checks the credentials and scope of req against the replica
// and returns the claims of the token to issue. Its errors (but
// errNeedsScope) are for the log only.
func (s *Server) checkLogin(req loginRequest, now time.Time) (identity.Claims, error) {
	user, err := s.loginUser(req.user)
	// A full bcrypt comparison even for an unknown user (no hash), so it
	// takes as long as a known one.
	matched := identity.CheckPassword(user.PasswordHash, req.user.Password)
	switch {
	case err != nil:
		return identity.Claims{}, err
	case !matched:
		return identity.Claims{}, errors.New("wrong password")
	}
	projectID := req.projectID
	switch {
	case req.project != "" && !req.projectDomainDefault:
		return identity.Claims{}, errors.New("project's domain does not exist")
	case req.project != "":
		p, err := s.state.Project(req.project)
		if err != nil || p.Name != req.project {
			return identity.Claims{}, fmt.Errorf("project %q does not exist", req.project)
		}
		projectID = p.ID
	case projectID == "" && user.DefaultProjectID == "":
		return identity.Claims{}, errNeedsScope
	case projectID == "":
		projectID = user.DefaultProjectID
	}
	issued := identity.IssuedAtFor(now, user.TokensValidAfter)
	c := identity.Claims{UserID: user.ID, ProjectID: projectID, IssuedAt: issued,
		ExpiresAt: issued.Add(s.auth.TokenTTL), AuditID: randomHex(16), Methods: []string{"password"}}
	// The token must hold as soon as it is issued: one home for what makes it
	// hold (user enabled, project enabled, a role on it).
	if err := identity.Validate(c, now, identityView{s.state}); err != nil {
		return identity.Claims{}, err
	}
	return c, nil
}

// loginUser finds the user a login names: by ID, or by name in its domain.
func (s *Server) loginUser(u authUser) (fsm.User, error) {
	if u.ID != "" {
		user, err := s.state.User(u.ID)
		if err != nil || user.ID != u.ID {
			return fsm.User{}, fmt.Errorf("user %q does not exist", u.ID)
		}
		return user, nil
	}
	if !isDefaultDomain(u.Domain.ID, u.Domain.Name) {
		return fsm.User{}, errors.New("user's domain does not exist")
	}
	user, err := s.state.User(u.Name)
	if err != nil || user.Name != u.Name {
		return fsm.User{}, fmt.Errorf("user %q does not exist", u.Name)
	}
	return user, nil
}

// errNoToken is Keystone's answer for a subject token that is not (or no
// longer) valid.
var errNoToken = fmt.Errorf("%w: could not find token", fsm.ErrNotFound)

// subjectToken validates X-Subject-Token for the caller: 404 when it is not
// a valid token, 403 when it is another user's and the caller is no admin.
func (s *Server) subjectToken(r *http.Request) (Principal, error) {
	token := r.Header.Get(HeaderSubjectToken)
	if token == "" {
		return Principal{}, errNoToken
	}
	subject, err := s.principalFor(token)
	if err != nil {
		return Principal{}, errNoToken
	}
	caller := Caller(r.Context())
	if subject.UserID != caller.UserID && !caller.Admin() {
		return Principal{}, errPolicy(r)
	}
	return subject, nil
}

// validateToken is GET (and HEAD) /auth/tokens.
func (s *Server) validateToken(w http.ResponseWriter, r *http.Request) {
	p, err := s.subjectToken(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set(HeaderSubjectToken, r.Header.Get(HeaderSubjectToken))
	WriteJSON(w, http.StatusOK, s.tokenBody(r, p))
}

// revokeToken is DELETE /auth/tokens: the revocation is read live at every
// validation, so the token is dead on each node once it has applied it.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	p, err := s.subjectToken(r)
	s.commitDelete(w, r, err, &fsm.RevokeToken{AuditID: p.Claims.AuditID, ExpiresAt: p.Claims.ExpiresAt, Time: s.auth.Now().UTC()})
}

// Keystone's token body.
type (
	tokenBody struct {
		Token tokenDoc `json:"token"`
	}
	tokenDoc struct {
		Methods   []string       `json:"methods"`
		User      tokenUser      `json:"user"`
		Project   tokenProject   `json:"project"`
		Roles     []nameRef      `json:"roles"`
		IssuedAt  string         `json:"issued_at"`
		ExpiresAt string         `json:"expires_at"`
		AuditIDs  []string       `json:"audit_ids"`
		Catalog   []catalogEntry `json:"catalog,omitempty"`
	}
	tokenUser struct {
		ID                string  `json:"id"`
		Name              string  `json:"name"`
		Domain            nameRef `json:"domain"`
		PasswordExpiresAt *string `json:"password_expires_at"`
	}
	tokenProject struct {
		ID     string  `json:"id"`
		Name   string  `json:"name"`
		Domain nameRef `json:"domain"`
	}
	nameRef struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	catalogEntry struct {
		ID        string     `json:"id"`
		Type      string     `json:"type"`
		Name      string     `json:"name"`
		Endpoints []endpoint `json:"endpoints"`
	}
	endpoint struct {
		ID        string `json:"id"`
		Interface string `json:"interface"`
		Region    string `json:"region"`
		RegionID  string `json:"region_id"`
		URL       string `json:"url"`
	}
)

// defaultDomain is the one domain as tokens and objects name it.
var defaultDomain = nameRef{ID: fsm.DefaultDomainID, Name: "Default"}

// tokenBody describes p's token as Keystone does, roles read live; the
// catalog is left out on ?nocatalog.
func (s *Server) tokenBody(r *http.Request, p Principal) tokenBody {
	t := tokenDoc{
		Methods:   p.Claims.Methods,
		User:      tokenUser{ID: p.UserID, Name: p.UserName, Domain: defaultDomain},
		Project:   tokenProject{ID: p.ProjectID, Name: p.ProjectName, Domain: defaultDomain},
		Roles:     []nameRef{},
		IssuedAt:  keystoneTime(p.Claims.IssuedAt),
		ExpiresAt: keystoneTime(p.Claims.ExpiresAt),
		AuditIDs:  []string{p.Claims.AuditID},
	}
	for _, role := range s.state.RolesOf(p.UserID, p.ProjectID) {
		t.Roles = append(t.Roles, nameRef{ID: role.ID, Name: role.Name})
	}
	if _, no := r.URL.Query()["nocatalog"]; !no {
		t.Catalog = catalog(BaseURL(r))
	}
	return tokenBody{Token: t}
}

// catalog names this node's services at base: Keystone itself, the
// OpenStack APIs the modules serve (compute versioned, as Nova's catalog
// entry is; image and network bare, since clients append v2/ and v2.0/),
// and the native API. IDs derive from what they name, so they are stable.
func catalog(base string) []catalogEntry {
	services := []struct{ typ, name, url string }{
		{"identity", "keystone", base + identityPrefix},
		{"compute", "nova", base + "/compute/v2.1"},
		{"image", "glance", base + "/image"},
		{"network", "neutron", base + "/networking"},
		{"shoal", "shoal", base + "/v1"},
	}
	out := make([]catalogEntry, 0, len(services))
	for _, svc := range services {
		e := catalogEntry{ID: stableID("service", svc.typ), Type: svc.typ, Name: svc.name}
		for _, iface := range []string{"public", "internal", "admin"} {
			e.Endpoints = append(e.Endpoints, endpoint{ID: stableID("endpoint", svc.typ, iface), Interface: iface,
				Region: regionName, RegionID: regionName, URL: svc.url})
		}
		out = append(out, e)
	}
	return out
}

// stableID is a 32-hex ID derived from parts.
func stableID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
