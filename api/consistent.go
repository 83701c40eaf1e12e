package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"

	"github.com/shoal-project/shoal/fsm"
)

// read registers a GET handler that also honours ?consistent=true: the leader
// serves it after a barrier, a follower forwards it to the leader.
func (s *Server) read(pattern string, a Access, h http.HandlerFunc) {
	s.route(pattern, a, func(w http.ResponseWriter, r *http.Request) {
		consistent, err := wantsConsistent(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !consistent {
			h(w, r)
			return
		}
		if s.cluster.IsLeader() {
			ctx, cancel := context.WithTimeout(r.Context(), settleTimeout)
			defer cancel()
			if err := s.cluster.Barrier(ctx); err != nil {
				s.writeError(w, r, fmt.Errorf("consistent read: barrier: %w", err))
				return
			}
			h(w, r)
			return
		}
		if r.Header.Get(HeaderForwarded) != "" {
			// The node that forwarded this believed we lead; we do not (any more).
			s.writeError(w, r, fmt.Errorf("%w: consistent read forwarded to %q, which is not the leader", fsm.ErrUnavailable, s.node))
			return
		}
		l, ok := s.cluster.Leader()
		if !ok {
			s.writeError(w, r, fsm.ErrNoLeader)
			return
		}
		if l.HTTPAddress == "" {
			s.writeError(w, r, fmt.Errorf("%w: leader %q has no HTTP address", fsm.ErrUnavailable, l.Name))
			return
		}
		s.forward(w, r, l)
	})
}

// wantsConsistent reads ?consistent; a bare ?consistent counts as true.
func wantsConsistent(r *http.Request) (bool, error) {
	q := r.URL.Query()
	if !q.Has("consistent") {
		return false, nil
	}
	v := q.Get("consistent")
	if v == "" {
		return true, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: consistent must be true or false, not %q", fsm.ErrInvalid, v)
	}
	return b, nil
}

// forward proxies r to another node's API (the leader, or a server's host),
// marked so it cannot bounce again. Nodes speak HTTPS only; the hop goes as
// this node (its certificate, the cluster CA), carrying the caller's token,
// which the other node checks again.
func (s *Server) forward(w http.ResponseWriter, r *http.Request, l Leader) {
	target := &url.URL{Scheme: "https", Host: l.HTTPAddress}
	id := RequestID(r.Context())
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set(HeaderForwarded, "1")
			pr.Out.Header.Set(HeaderRequestID, id)
		},
		Transport: s.cluster.InternalClient().Transport,
		ModifyResponse: func(resp *http.Response) error {
			// The leader echoes our request ID; we have set it already.
			resp.Header.Del(HeaderRequestID)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.writeError(w, r, fmt.Errorf("%w: forwarding to %q at %s: %v", fsm.ErrUnavailable, l.Name, l.HTTPAddress, err))
		},
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	p.ServeHTTP(w, r)
}
