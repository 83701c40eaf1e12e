package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// JoinTokenRequest is the body of POST /v1/cluster/join-tokens; the body and
// both fields are optional. TTL is a Go duration ("1h", "30m", "90s"); absent
// or "" means the cluster's default (cluster.DefaultJoinTokenTTL, 1h). Uses
// is how many nodes the token admits; absent means 1.
type JoinTokenRequest struct {
	TTL  string `json:"ttl,omitempty"`
	Uses *int   `json:"uses,omitempty"`
}

// Join token states, as lists show them.
const (
	JoinTokenActive  = "active"
	JoinTokenExpired = "expired"
	JoinTokenUsed    = "used"
	JoinTokenRevoked = "revoked"
)

// JoinTokenInfo is a join token as the API shows it: never its secret nor
// the secret's hash.
type JoinTokenInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	UsedBy    []string  `json:"used_by"` // the nodes it admitted, in order; [] when none
	Revoked   bool      `json:"revoked"`
	CreatedBy string    `json:"created_by"` // the user ID of the admin who made it
	State     string    `json:"state"`      // active|expired|used|revoked
}

// NewJoinToken is a join token just made: the only answer that carries the
// token itself.
type NewJoinToken struct {
	Token string `json:"token"`
	JoinTokenInfo
}

// JoinTokenResponse is the body of POST /v1/cluster/join-tokens (201).
type JoinTokenResponse struct {
	JoinToken NewJoinToken `json:"join_token"`
}

// JoinTokenList is the body of GET /v1/cluster/join-tokens.
type JoinTokenList struct {
	JoinTokens []JoinTokenInfo `json:"join_tokens"`
}

// GossipKey names a gossip key; the key itself never leaves the cluster.
type GossipKey struct {
	ID string `json:"id"`
}

// GossipKeyResponse is the body of POST /v1/cluster/gossip-key/rotate.
type GossipKeyResponse struct {
	GossipKey GossipKey `json:"gossip_key"`
}

// joinTokenInfo shows t as of now. A revoked token says so whatever else
// is true of it; a used-up one says used even once it has expired.
func joinTokenInfo(t fsm.JoinToken, now time.Time) JoinTokenInfo {
	state := JoinTokenActive
	switch {
	case t.Revoked:
		state = JoinTokenRevoked
	case t.Uses >= t.MaxUses:
		state = JoinTokenUsed
	case !now.Before(t.ExpiresAt):
		state = JoinTokenExpired
	}
	usedBy := t.UsedBy
	if usedBy == nil {
		usedBy = []string{}
	}
	return JoinTokenInfo{ID: t.ID, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, MaxUses: t.MaxUses, Uses: t.Uses,
		UsedBy: usedBy, Revoked: t.Revoked, CreatedBy: t.CreatedBy, State: state}
}

// createJoinToken makes a join token for the caller. The token is in this
// answer and nowhere else: Raft holds its hash, and neither the log nor any
// list shows it.
func (s *Server) createJoinToken(w http.ResponseWriter, r *http.Request) {
	var req JoinTokenRequest
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ttl, uses, err := req.parse()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	token, rec, err := s.cluster.CreateJoinToken(r.Context(), ttl, uses, p.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.log.Info("api: join token created", "join_token", rec.ID, "expires_at", rec.ExpiresAt, "max_uses", rec.MaxUses,
		"user", p.UserName, "project", p.ProjectName)
	WriteJSON(w, http.StatusCreated, JoinTokenResponse{JoinToken: NewJoinToken{Token: token,
		JoinTokenInfo: joinTokenInfo(rec, s.auth.Now())}})
}

// parse checks what the request gives; 0 ttl means the cluster's default.
// The upper bounds are the cluster's to enforce (one home: cluster.Node).
func (req JoinTokenRequest) parse() (ttl time.Duration, uses int, err error) {
	if req.TTL != "" {
		ttl, err = time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return 0, 0, fmt.Errorf("%w: ttl %q: give a positive duration such as \"1h\" or \"30m\"", fsm.ErrInvalid, truncate(req.TTL))
		}
	}
	uses = 1
	if req.Uses != nil {
		uses = *req.Uses
		if uses < 1 || uses > fsm.MaxJoinTokenUses {
			return 0, 0, fmt.Errorf("%w: uses must be from 1 to %d, not %d", fsm.ErrInvalid, fsm.MaxJoinTokenUses, uses)
		}
	}
	return ttl, uses, nil
}

func (s *Server) listJoinTokens(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	now := s.auth.Now()
	tokens := s.state.JoinTokens()
	out := make([]JoinTokenInfo, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, joinTokenInfo(t, now))
	}
	WriteJSON(w, http.StatusOK, JoinTokenList{JoinTokens: out})
}

// revokeJoinToken stops a token from admitting anyone more; nodes it has
// admitted stay.
func (s *Server) revokeJoinToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	idx, err := s.apply(r.Context(), &fsm.RevokeJoinToken{ID: id})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	s.log.Info("api: join token revoked", "join_token", id, "user", p.UserName, "project", p.ProjectName)
	SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// rotateGossipKey replaces the gossip key; it returns once every live member
// sends under the new one, or fails saying how far it got.
func (s *Server) rotateGossipKey(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		s.writeError(w, r, fmt.Errorf("%w: rotate takes no body", fsm.ErrInvalid))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), membershipTimeout)
	defer cancel()
	id, err := s.cluster.RotateGossipKey(ctx)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p := Caller(r.Context())
	s.log.Info("api: gossip key rotated", "key", id, "user", p.UserName, "project", p.ProjectName)
	WriteJSON(w, http.StatusOK, GossipKeyResponse{GossipKey: GossipKey{ID: id}})
}
