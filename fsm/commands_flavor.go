package fsm

import "fmt"

// CreateFlavor adds a flavor; ID and Created are stamped by the proposing node.
type CreateFlavor struct {
	Flavor Flavor `json:"flavor"`
}

// DeleteFlavor removes a flavor by ID.
type DeleteFlavor struct {
	ID string `json:"id"`
}

func (*CreateFlavor) Type() Type { return TypeCreateFlavor }
func (*DeleteFlavor) Type() Type { return TypeDeleteFlavor }

func applyCreateFlavor(s *State, index uint64, c Command) error {
	f := c.(*CreateFlavor).Flavor
	if err := validFlavor(f); err != nil {
		return err
	}
	if _, ok := s.Flavors[f.ID]; ok {
		return fmt.Errorf("%w: flavor ID %q already exists", ErrConflict, f.ID)
	}
	if s.flavorByName(f.Name) != nil {
		return fmt.Errorf("%w: flavor name %q already exists", ErrConflict, f.Name)
	}
	s.putFlavor(f, index)
	return nil
}

func applyDeleteFlavor(s *State, _ uint64, c Command) error {
	id := c.(*DeleteFlavor).ID
	f, ok := s.Flavors[id]
	if !ok {
		return fmt.Errorf("%w: flavor %q", ErrNotFound, id)
	}
	delete(s.flavorNames, f.Name)
	delete(s.Flavors, id)
	return nil
}

// validFlavor is the rule every flavor obeys, whoever proposed it.
func validFlavor(f Flavor) error {
	switch {
	case f.ID == "":
		return fmt.Errorf("%w: flavor ID is empty", ErrInvalid)
	case f.Name == "":
		return fmt.Errorf("%w: flavor name is empty", ErrInvalid)
	case f.VCPUs < 1:
		return fmt.Errorf("%w: flavor vcpus must be at least 1", ErrInvalid)
	case f.RAM < 1:
		return fmt.Errorf("%w: flavor ram must be at least 1 MiB", ErrInvalid)
	case f.Disk < 0:
		return fmt.Errorf("%w: flavor disk must not be negative", ErrInvalid)
	case f.Swap < 0 || f.Ephemeral < 0:
		return fmt.Errorf("%w: flavor swap and ephemeral must not be negative", ErrInvalid)
	case f.RxtxFactor < 0:
		return fmt.Errorf("%w: flavor rxtx_factor must be positive", ErrInvalid)
	case !f.Private && len(f.Access) > 0:
		return fmt.Errorf("%w: a public flavor has no access list", ErrInvalid)
	}
	if err := validText("flavor description", f.Description, MaxFlavorDescription); err != nil {
		return err
	}
	for _, p := range f.Access {
		if err := validName("project ID", p); err != nil {
			return err
		}
	}
	return ValidMetadata("extra spec", f.ExtraSpecs)
}
