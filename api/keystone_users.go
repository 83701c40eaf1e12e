package api

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/shoal-project/shoal/api/identity"
	"github.com/shoal-project/shoal/fsm"
)

// Keystone's user, as shown: never its password hash.
type userDoc struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	DomainID          string         `json:"domain_id"`
	Enabled           bool           `json:"enabled"`
	DefaultProjectID  string         `json:"default_project_id,omitempty"`
	PasswordExpiresAt *string        `json:"password_expires_at"`
	Options           map[string]any `json:"options"`
	Links             links          `json:"links"`
	extra             string         // a JSON object: Keystone shows extra attributes beside its own
}

func userOf(r *http.Request, u fsm.User) userDoc {
	return userDoc{ID: u.ID, Name: u.Name, DomainID: u.DomainID, Enabled: u.Enabled, DefaultProjectID: u.DefaultProjectID,
		Options: map[string]any{}, Links: links{Self: objectURL(r, "users", u.ID)}, extra: u.Extra}
}

// MarshalJSON writes the user's own attributes, then its extra ones.
func (d userDoc) MarshalJSON() ([]byte, error) {
	type plain userDoc
	b, err := json.Marshal(plain(d))
	if err != nil || d.extra == "" {
		return b, err
	}
	var own, extra map[string]json.RawMessage
	if err := json.Unmarshal(b, &own); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(d.extra), &extra); err != nil {
		return nil, err
	}
	for k, v := range extra {
		if _, taken := own[k]; !taken {
			own[k] = v
		}
	}
	return json.Marshal(own)
}

// userAttributes are the members of a user body shoal reads; Keystone
// keeps any other (its schema allows additional properties) as extra.
var userAttributes = map[string]bool{"name": true, "password": true, "default_project_id": true, "enabled": true,
	"domain_id": true}

// decodeUser decodes a user body into its request and its extra
// attributes (a JSON object, "" for none).
func decodeUser(w http.ResponseWriter, r *http.Request) (userRequest, string, error) {
	var req userRequest
	var all map[string]json.RawMessage
	if err := decodeKeystone(w, r, "user", &all); err != nil {
		return req, "", err
	}
	own, extra := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for k, v := range all {
		if userAttributes[k] {
			own[k] = v
		} else {
			extra[k] = v
		}
	}
	b, err := json.Marshal(own)
	if err == nil {
		err = decodeStrict(b, &req)
	}
	if err != nil || len(extra) == 0 {
		return req, "", err
	}
	e, err := json.Marshal(extra)
	return req, string(e), err
}

// userRequest is the body of a user's create or update. Users have no
// description here: the replicated user does not keep one.
type userRequest struct {
	Name             *string `json:"name"`
	Password         *string `json:"password"`
	DefaultProjectID *string `json:"default_project_id"`
	Enabled          *bool   `json:"enabled"`
	DomainID         *string `json:"domain_id"`
}

// check refuses a domain other than default and a default project that
// does not exist ("" clears it).
func (s *Server) checkUser(req userRequest) error {
	if err := checkDomain(req.DomainID); err != nil {
		return err
	}
	if p := req.DefaultProjectID; p != nil && *p != "" {
		if _, err := s.project(*p); err != nil {
			return err
		}
	}
	return nil
}

// uniqueUser refuses a name in use; fsm decides for good.
func (s *Server) uniqueUser(name string) error {
	if u, err := s.state.User(name); err == nil && u.Name == name {
		return errDuplicate("user", name)
	}
	return nil
}

// hashOf hashes a new password on this node, before Raft: only the hash
// enters the log. nil stays nil.
func hashOf(pw *string) (*string, error) {
	if pw == nil {
		return nil, nil
	}
	h, err := identity.HashPassword(*pw)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	out := []userDoc{}
	for _, u := range s.state.Users() {
		if keep(q, "name", u.Name) && keep(q, "domain_id", u.DomainID) && keepEnabled(q, u.Enabled) {
			out = append(out, userOf(r, u))
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, map[string]any{"users": out, "links": listLinks(r)})
}

// showUser answers an admin, or the user itself (Keystone's policy).
func (s *Server) showUser(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	u, err := s.selfOrAdmin(r)
	s.writeFound(w, r, idx, err, func() any { return map[string]userDoc{"user": userOf(r, u)} })
}

// selfOrAdmin names the user of the path for a caller that is that user or
// an admin; another caller gets 403 before anything is looked up.
func (s *Server) selfOrAdmin(r *http.Request) (fsm.User, error) {
	id := r.PathValue("id")
	if caller := Caller(r.Context()); caller.UserID != id && !caller.Admin() {
		return fsm.User{}, errPolicy(r)
	}
	return s.user(id)
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	req, extra, err := decodeUser(w, r)
	if err == nil && req.Name == nil {
		err = fmt.Errorf("%w: 'name' is a required property", fsm.ErrInvalid)
	}
	if err == nil {
		err = s.checkUser(req)
	}
	if err == nil {
		err = s.uniqueUser(*req.Name)
	}
	var hash *string
	if err == nil {
		hash, err = hashOf(req.Password)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.auth.Now().UTC()
	u := fsm.User{ID: newKeystoneID(), Name: *req.Name, DomainID: fsm.DefaultDomainID, Enabled: true, Extra: extra,
		Created: now, Updated: now}
	if hash != nil {
		u.PasswordHash = *hash
	}
	if req.DefaultProjectID != nil {
		u.DefaultProjectID = *req.DefaultProjectID
	}
	if req.Enabled != nil {
		u.Enabled = *req.Enabled
	}
	idx, created, err := applyRead(s, r.Context(), &fsm.CreateUser{User: u}, "user", u.ID, s.user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, objectURL(r, "users", u.ID), map[string]userDoc{"user": userOf(r, created)})
}

// updateUser is PATCH: a new password or a disable kills the user's tokens
// (fsm moves TokensValidAfter).
func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) {
	var req userRequest
	u, err := s.user(r.PathValue("id"))
	if err == nil {
		err = decodeKeystone(w, r, "user", &req)
	}
	if err == nil {
		err = s.checkUser(req)
	}
	if err == nil && req.Name != nil && *req.Name != u.Name {
		err = s.uniqueUser(*req.Name)
	}
	var hash *string
	if err == nil {
		hash, err = hashOf(req.Password)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.commitUserUpdate(w, r, &fsm.UpdateUser{ID: u.ID, Name: req.Name, Enabled: req.Enabled,
		DefaultProjectID: req.DefaultProjectID, PasswordHash: hash, Time: s.auth.Now().UTC()}, http.StatusOK)
}

// commitUserUpdate commits cmd and answers status: 200 with the user, or
// 204 with nothing.
func (s *Server) commitUserUpdate(w http.ResponseWriter, r *http.Request, cmd *fsm.UpdateUser, status int) {
	idx, updated, err := applyRead(s, r.Context(), cmd, "user", cmd.ID, s.user)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if status == http.StatusNoContent {
		SetIndex(w, idx)
		w.WriteHeader(status)
		return
	}
	writeUpdated(w, idx, map[string]userDoc{"user": userOf(r, updated)})
}

// changePassword is Keystone's self-service POST /users/{id}/password: the
// original password must be right (a wrong one is a throttled 401, as a
// failed login is), and every token of the user dies.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	started := s.auth.Now()
	var req struct {
		Password         *string `json:"password"`
		OriginalPassword *string `json:"original_password"`
	}
	u, err := s.selfOrAdmin(r)
	if err == nil {
		err = decodeKeystone(w, r, "user", &req)
	}
	if err == nil && (req.Password == nil || req.OriginalPassword == nil) {
		err = fmt.Errorf("%w: 'password' and 'original_password' are required properties", fsm.ErrInvalid)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !identity.CheckPassword(u.PasswordHash, *req.OriginalPassword) {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "api: password change refused",
			slog.String("user", u.Name), slog.String("reason", "wrong original password"),
			slog.String("remote", r.RemoteAddr), slog.String("request_id", RequestID(r.Context())))
		if s.auth.Throttle.Failed(r.Context(), u.Name, started) != nil {
			return
		}
		s.writeError(w, r, fmt.Errorf("%w: invalid original password", fsm.ErrUnauthorized))
		return
	}
	hash, err := hashOf(req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.commitUserUpdate(w, r, &fsm.UpdateUser{ID: u.ID, PasswordHash: hash, Time: s.auth.Now().UTC()}, http.StatusNoContent)
}

// deleteUser removes a user and its role assignments; its tokens die.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	u, err := s.user(r.PathValue("id"))
	s.commitDelete(w, r, err, &fsm.DeleteUser{ID: u.ID})
}
