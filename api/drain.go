package api

import (
	"net/http"

	"github.com/shoal-project/shoal/fsm"
)

// HostDrainResponse is the body of the /v1/hosts/{name}/drain routes: POST
// starts a drain (202), DELETE cancels it, GET shows how it goes.
type HostDrainResponse struct {
	Drain fsm.DrainProgress `json:"drain"`
}

func (s *Server) showHostDrain(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	p, err := s.ops.HostDrain(r.Context(), r.PathValue("name"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, HostDrainResponse{Drain: p})
}

func (s *Server) startHostDrain(w http.ResponseWriter, r *http.Request) {
	var req struct{} // no fields: any given is an error
	if err := decodeOptional(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeHostDrain(w, r, http.StatusAccepted)(s.ops.StartHostDrain(r.Context(), r.PathValue("name")))
}

func (s *Server) cancelHostDrain(w http.ResponseWriter, r *http.Request) {
	s.writeHostDrain(w, r, http.StatusOK)(s.ops.CancelHostDrain(r.Context(), r.PathValue("name")))
}

func (s *Server) writeHostDrain(w http.ResponseWriter, r *http.Request, status int) func(uint64, fsm.DrainProgress, error) {
	return func(idx uint64, p fsm.DrainProgress, err error) {
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		SetIndex(w, idx)
		WriteJSON(w, status, HostDrainResponse{Drain: p})
	}
}
