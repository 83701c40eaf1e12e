package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// The shapes every handler group finishes with: commit a command and read
// one's own write, answer a lookup, answer a delete.

// writeFound finishes a GET of one object looked up after reading the index
// idx (so the index never claims more than the object reflects): it answers
// body() with idx, or the lookup's error.
func (s *Server) writeFound(w http.ResponseWriter, r *http.Request, idx uint64, lookupErr error, body func() any) {
	if lookupErr != nil {
		s.writeError(w, r, lookupErr)
		return
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, body())
}

// commitDelete finishes a DELETE whose target was looked up (lookupErr):
// it commits cmd and answers 204, or answers the error.
func (s *Server) commitDelete(w http.ResponseWriter, r *http.Request, lookupErr error, cmd fsm.Command) {
	if lookupErr != nil {
		s.writeError(w, r, lookupErr)
		return
	}
	idx, err := s.apply(r.Context(), cmd)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// writeNoContent finishes a write that answers nothing: 204 with the
// index it was applied at, or the error.
func (s *Server) writeNoContent(w http.ResponseWriter, r *http.Request, idx uint64, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// applyRead commits c, then reads back from the local replica the object it
// wrote: noun and id name that object (for read, and for the error that says
// the write is committed but cannot be read here).
func applyRead[T any](s *Server, ctx context.Context, c fsm.Command, noun, id string, read func(string) (T, error)) (uint64, T, error) {
	idx, err := s.apply(ctx, c)
	if err != nil {
		var zero T
		return idx, zero, err
	}
	v, err := read(id)
	if err != nil {
		return idx, v, fmt.Errorf("reading back %s %q applied at index %d: %w", noun, id, idx, err)
	}
	return idx, v, nil
}

// writeCreated finishes a POST that created the object at location, applied
// at idx: it answers 201 with body.
func writeCreated(w http.ResponseWriter, idx uint64, location string, body any) {
	SetIndex(w, idx)
	w.Header().Set("Location", location)
	WriteJSON(w, http.StatusCreated, body)
}

// apply commits c and waits until the local replica has applied it, so the
// caller can read its own write from this node.
func (s *Server) apply(ctx context.Context, c fsm.Command) (uint64, error) {
	idx, err := s.cluster.Apply(ctx, c)
	if err != nil {
		return idx, err
	}
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	if err := s.state.WaitForIndex(ctx, idx); err != nil {
		return idx, fmt.Errorf("committed at index %d, not yet applied on this node: %w", idx, err)
	}
	return idx, nil
}
