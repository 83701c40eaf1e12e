package fsm

import (
	"fmt"
	"maps"
	"slices"
)

// Changes to existing flavors (Nova's flavor description PUT, os-extra_specs
// and os-flavor-access). Each refuses bad input and changes nothing then;
// admin-only is the API's policy, not checked here.

// UpdateFlavor changes what Nova lets change on a flavor: its description
// (2.55). A nil field is left as it is; "" clears the description.
type UpdateFlavor struct {
	ID          string  `json:"id"`
	Description *string `json:"description,omitempty"`
}

// SetFlavorExtraSpecs adds extra specs to a flavor or changes their values;
// the others stay (Nova's POST os-extra_specs and PUT of one key).
type SetFlavorExtraSpecs struct {
	ID    string            `json:"id"`
	Specs map[string]string `json:"extra_specs"`
}

// DeleteFlavorExtraSpec removes one extra spec, which must be there.
type DeleteFlavorExtraSpec struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// AddFlavorAccess lets a project see and use a private flavor.
type AddFlavorAccess struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
}

// RemoveFlavorAccess takes a project off a private flavor's access list.
type RemoveFlavorAccess struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
}

func (*UpdateFlavor) Type() Type          { return TypeUpdateFlavor }
func (*SetFlavorExtraSpecs) Type() Type   { return TypeSetFlavorExtraSpecs }
func (*DeleteFlavorExtraSpec) Type() Type { return TypeDeleteFlavorExtraSpec }
func (*AddFlavorAccess) Type() Type       { return TypeAddFlavorAccess }
func (*RemoveFlavorAccess) Type() Type    { return TypeRemoveFlavorAccess }

// IsPublic reports whether every project sees the flavor (Nova's is_public).
func (f *Flavor) IsPublic() bool { return !f.Private }

// EffectiveRxtxFactor is the flavor's rxtx_factor with Nova's default, 1.0,
// for a flavor that has none.
func (f *Flavor) EffectiveRxtxFactor() float64 {
	if f.RxtxFactor == 0 {
		return 1
	}
	return f.RxtxFactor
}

// VisibleTo reports whether a project may see and use the flavor: a public
// one always, a private one when the project is on its access list. Admins
// see every flavor; that is the API's call, as for images. This is the one
// home of the rule: the API filters with it and CreateInstances checks it.
func (f *Flavor) VisibleTo(projectID string) bool {
	if !f.Private {
		return true
	}
	_, found := slices.BinarySearch(f.Access, projectID)
	return found
}

// clone copies a flavor so readers never share its access list or extra
// specs with the state.
func (f *Flavor) clone() Flavor {
	c := *f
	c.Access = slices.Clone(f.Access)
	c.ExtraSpecs = maps.Clone(f.ExtraSpecs)
	return c
}

// changeFlavor runs change on the flavor id and, when it succeeds, moves its
// modify index; change must leave the flavor as it was when it fails.
func (s *State) changeFlavor(id string, index uint64, change func(f *Flavor) error) error {
	f, ok := s.Flavors[id]
	if !ok {
		return fmt.Errorf("%w: flavor %q", ErrNotFound, id)
	}
	if err := change(f); err != nil {
		return err
	}
	f.ModifyIndex = index
	return nil
}

func applyUpdateFlavor(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateFlavor)
	if cmd.Description == nil {
		return fmt.Errorf("%w: nothing to update on flavor %q", ErrInvalid, cmd.ID)
	}
	if err := validText("flavor description", *cmd.Description, MaxFlavorDescription); err != nil {
		return err
	}
	return s.changeFlavor(cmd.ID, index, func(f *Flavor) error {
		f.Description = *cmd.Description
		return nil
	})
}

func applySetFlavorExtraSpecs(s *State, index uint64, c Command) error {
	cmd := c.(*SetFlavorExtraSpecs)
	if len(cmd.Specs) == 0 {
		return fmt.Errorf("%w: no extra specs to set on flavor %q", ErrInvalid, cmd.ID)
	}
	if err := ValidMetadata("extra spec", cmd.Specs); err != nil {
		return err
	}
	return s.changeFlavor(cmd.ID, index, func(f *Flavor) error {
		specs := maps.Clone(f.ExtraSpecs)
		if specs == nil {
			specs = map[string]string{}
		}
		maps.Copy(specs, cmd.Specs)
		f.ExtraSpecs = specs
		return nil
	})
}

func applyDeleteFlavorExtraSpec(s *State, index uint64, c Command) error {
	cmd := c.(*DeleteFlavorExtraSpec)
	return s.changeFlavor(cmd.ID, index, func(f *Flavor) error {
		if _, ok := f.ExtraSpecs[cmd.Key]; !ok {
			return fmt.Errorf("%w: Flavor %s has no extra specs with key %s.", ErrNotFound, f.ID, short(cmd.Key))
		}
		specs := maps.Clone(f.ExtraSpecs)
		delete(specs, cmd.Key)
		if len(specs) == 0 {
			specs = nil // as a flavor that never had any
		}
		f.ExtraSpecs = specs
		return nil
	})
}

// CheckAccessChange says whether projectID may be added to (add) or
// removed from the flavor's access list, with Nova's errors: access to a
// public flavor and a project already on the list are 409, removing one
// not on it 404. Apply's rule, for the API to check before proposing.
func (f *Flavor) CheckAccessChange(projectID string, add bool) error {
	_, found := slices.BinarySearch(f.Access, projectID)
	switch {
	case add && !f.Private:
		return fmt.Errorf("%w: Can not add access to a public flavor.", ErrConflict)
	case add && found:
		return fmt.Errorf("%w: Flavor access already exists for flavor %s and project %s combination.", ErrConflict, f.ID, projectID)
	case !add && !found:
		return fmt.Errorf("%w: Flavor access not found for %s / %s combination.", ErrNotFound, f.ID, short(projectID))
	}
	return nil
}

func applyAddFlavorAccess(s *State, index uint64, c Command) error {
	cmd := c.(*AddFlavorAccess)
	if err := validName("project ID", cmd.ProjectID); err != nil {
		return err
	}
	return s.changeFlavor(cmd.ID, index, func(f *Flavor) error {
		if err := f.CheckAccessChange(cmd.ProjectID, true); err != nil {
			return err
		}
		at, _ := slices.BinarySearch(f.Access, cmd.ProjectID)
		f.Access = slices.Insert(slices.Clone(f.Access), at, cmd.ProjectID)
		return nil
	})
}

func applyRemoveFlavorAccess(s *State, index uint64, c Command) error {
	cmd := c.(*RemoveFlavorAccess)
	return s.changeFlavor(cmd.ID, index, func(f *Flavor) error {
		if err := f.CheckAccessChange(cmd.ProjectID, false); err != nil {
			return err
		}
		at, _ := slices.BinarySearch(f.Access, cmd.ProjectID)
		f.Access = slices.Delete(slices.Clone(f.Access), at, at+1)
		if len(f.Access) == 0 {
			f.Access = nil
		}
		return nil
	})
}

// FlavorsVisibleTo lists the flavors a project may see (Flavor.VisibleTo),
// ordered as Flavors.
func (f *FSM) FlavorsVisibleTo(projectID string) []Flavor {
	return slices.DeleteFunc(f.Flavors(), func(fl Flavor) bool { return !fl.VisibleTo(projectID) })
}
