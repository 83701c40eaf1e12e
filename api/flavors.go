package api

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Flavor limits. They are generous; the point is to refuse nonsense early.
const (
	maxFlavorNameLen = 255
	maxFlavorIDLen   = 64
	maxFlavorVCPUs   = 1024
	maxFlavorRAM     = 16 << 20 // MiB (16 TiB)
	maxFlavorDisk    = 1 << 20  // GiB (1 PiB)
)

// FlavorList is the body of GET /v1/flavors.
type FlavorList struct {
	Flavors []fsm.Flavor `json:"flavors"`
}

// FlavorResponse is the body of GET /v1/flavors/{id} and of a create.
type FlavorResponse struct {
	Flavor fsm.Flavor `json:"flavor"`
}

// flavorRequest is what POST /v1/flavors takes, bare or as {"flavor":{...}}.
// Pointers tell a missing field from a zero one; ID is optional, and so
// are Nova's other fields (swap in MiB, ephemeral in GiB, rxtx_factor,
// description, is_public: true by default).
type flavorRequest struct {
	ID          *string  `json:"id,omitempty"`
	Name        *string  `json:"name"`
	VCPUs       *int     `json:"vcpus"`
	RAM         *int     `json:"ram"`
	Disk        *int     `json:"disk"`
	Swap        *int     `json:"swap,omitempty"`
	Ephemeral   *int     `json:"ephemeral,omitempty"`
	RxtxFactor  *float64 `json:"rxtx_factor,omitempty"`
	Description *string  `json:"description,omitempty"`
	IsPublic    *bool    `json:"is_public,omitempty"`
}

func (s *Server) listFlavors(w http.ResponseWriter, r *http.Request) {
	SetIndex(w, s.state.Index())
	WriteJSON(w, http.StatusOK, FlavorList{Flavors: s.ops.Flavors(r.Context())})
}

func (s *Server) showFlavor(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	f, err := s.ops.Flavor(r.Context(), r.PathValue("id"))
	s.writeFound(w, r, idx, err, func() any { return FlavorResponse{Flavor: f} })
}

func (s *Server) createFlavor(w http.ResponseWriter, r *http.Request) {
	f, err := decodeFlavor(w, r)
	var idx uint64
	if err == nil {
		idx, f, err = s.ops.createFlavor(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeCreated(w, idx, "/v1/flavors/"+url.PathEscape(f.ID), FlavorResponse{Flavor: f})
}

func (s *Server) deleteFlavor(w http.ResponseWriter, r *http.Request) {
	idx, err := s.ops.DeleteFlavor(r.Context(), r.PathValue("id"))
	s.writeNoContent(w, r, idx, err)
}

// decodeFlavor reads a create request in either form and validates it. The
// wrapped form is chosen when the top-level object has a "flavor" key.
func decodeFlavor(w http.ResponseWriter, r *http.Request) (fsm.Flavor, error) {
	b, err := readBody(w, r)
	if err != nil {
		return fsm.Flavor{}, err
	}
	keys, err := topLevelKeys(b)
	if err != nil {
		return fsm.Flavor{}, err
	}
	var req flavorRequest
	if _, wrapped := keys["flavor"]; wrapped {
		var env struct {
			Flavor *flavorRequest `json:"flavor"`
		}
		if err := decodeStrict(b, &env); err != nil {
			return fsm.Flavor{}, err
		}
		if env.Flavor == nil {
			return fsm.Flavor{}, fmt.Errorf("%w: \"flavor\" must be an object", fsm.ErrInvalid)
		}
		req = *env.Flavor
	} else if err := decodeStrict(b, &req); err != nil {
		return fsm.Flavor{}, err
	}
	return req.flavor()
}

// flavor validates the request and builds the flavor to propose, with its ID.
func (req flavorRequest) flavor() (fsm.Flavor, error) {
	required := []struct {
		field   string
		present bool
	}{{"name", req.Name != nil}, {"vcpus", req.VCPUs != nil}, {"ram", req.RAM != nil}, {"disk", req.Disk != nil}}
	for _, r := range required {
		if !r.present {
			return fsm.Flavor{}, fmt.Errorf("%w: flavor %s is required", fsm.ErrInvalid, r.field)
		}
	}
	f := fsm.Flavor{Name: *req.Name, VCPUs: *req.VCPUs, RAM: *req.RAM, Disk: *req.Disk}
	if err := validFlavorName(f.Name); err != nil {
		return fsm.Flavor{}, err
	}
	switch {
	case f.VCPUs < 1 || f.VCPUs > maxFlavorVCPUs:
		return fsm.Flavor{}, fmt.Errorf("%w: flavor vcpus must be from 1 to %d, got %d", fsm.ErrInvalid, maxFlavorVCPUs, f.VCPUs)
	case f.RAM < 1 || f.RAM > maxFlavorRAM:
		return fsm.Flavor{}, fmt.Errorf("%w: flavor ram must be from 1 to %d MiB, got %d", fsm.ErrInvalid, maxFlavorRAM, f.RAM)
	case f.Disk < 0 || f.Disk > maxFlavorDisk:
		return fsm.Flavor{}, fmt.Errorf("%w: flavor disk must be from 0 to %d GiB, got %d", fsm.ErrInvalid, maxFlavorDisk, f.Disk)
	}
	if err := req.extras(&f); err != nil {
		return fsm.Flavor{}, err
	}
	if req.ID == nil {
		f.ID = uuid.NewString()
	} else if f.ID = *req.ID; !isToken(f.ID, maxFlavorIDLen) {
		return fsm.Flavor{}, fmt.Errorf("%w: flavor id must be 1 to %d characters of A-Z a-z 0-9 - _ .", fsm.ErrInvalid, maxFlavorIDLen)
	}
	return f, nil
}

func validFlavorName(name string) error { return validName("flavor name", name) }

// uniqueFlavor refuses a duplicate ID or name with a clear message before
// anything is proposed; Apply checks again, so a race still ends in a conflict.
func (s *Server) uniqueFlavor(f fsm.Flavor) error {
	for _, existing := range s.state.Flavors() {
		if existing.ID == f.ID {
			return fmt.Errorf("%w: a flavor with ID %q already exists", fsm.ErrConflict, f.ID)
		}
		if existing.Name == f.Name {
			return fmt.Errorf("%w: a flavor named %q already exists (ID %s)", fsm.ErrConflict, f.Name, existing.ID)
		}
	}
	return nil
}
