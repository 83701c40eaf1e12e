package fsm

import (
	"fmt"
	"slices"
	"time"
)

// The aggregate commands (aggregate.go). Every refusal is Nova's, with its
// status: ErrInvalid (400), ErrNotFound (404), ErrConflict (409).

// CreateAggregate makes an aggregate, in zone when one is given.
type CreateAggregate struct {
	UUID string    `json:"uuid"`
	Name string    `json:"name"`
	Zone string    `json:"availability_zone,omitempty"`
	Time time.Time `json:"time"`
}

// UpdateAggregate renames an aggregate (Name not nil) and sets or, for a
// nil value, removes metadata keys (Nova's update and set_metadata: a
// zone in the update is its availability_zone key). SetMetadata says which
// of the two it is, for Nova's wording of a refusal.
type UpdateAggregate struct {
	ID          uint64             `json:"id"`
	Name        *string            `json:"name,omitempty"`
	Metadata    map[string]*string `json:"metadata,omitempty"`
	SetMetadata bool               `json:"set_metadata,omitempty"`
	Time        time.Time          `json:"time"`
}

// DeleteAggregate removes an aggregate that has no hosts.
type DeleteAggregate struct {
	ID uint64 `json:"id"`
}

// AddAggregateHost adds a registered host to an aggregate.
type AddAggregateHost struct {
	ID   uint64    `json:"id"`
	Host string    `json:"host"`
	Time time.Time `json:"time"`
}

// RemoveAggregateHost takes a host out of an aggregate.
type RemoveAggregateHost struct {
	ID   uint64    `json:"id"`
	Host string    `json:"host"`
	Time time.Time `json:"time"`
}

func (*CreateAggregate) Type() Type     { return TypeCreateAggregate }
func (*UpdateAggregate) Type() Type     { return TypeUpdateAggregate }
func (*DeleteAggregate) Type() Type     { return TypeDeleteAggregate }
func (*AddAggregateHost) Type() Type    { return TypeAddAggregateHost }
func (*RemoveAggregateHost) Type() Type { return TypeRemoveAggregateHost }

func applyCreateAggregate(s *State, index uint64, c Command) error {
	cmd := c.(*CreateAggregate)
	if cmd.UUID == "" {
		return fmt.Errorf("%w: an aggregate needs a UUID", ErrInvalid)
	}
	if err := checkAggregateText("name", cmd.Name, false); err != nil {
		return err
	}
	if err := checkAggregateText("availability zone", cmd.Zone, true); err != nil {
		return err
	}
	for _, a := range s.Aggregates {
		if a.UUID == cmd.UUID {
			return fmt.Errorf("%w: aggregate %s exists", ErrConflict, cmd.UUID)
		}
	}
	if s.aggregateByName(cmd.Name) != nil {
		return fmt.Errorf("%w: Aggregate %s already exists.", ErrConflict, cmd.Name)
	}
	s.AggregateSeq++
	a := &Aggregate{ID: s.AggregateSeq, UUID: cmd.UUID, Name: cmd.Name, Hosts: []string{}, Metadata: map[string]string{}, Created: cmd.Time,
		Indexes: Indexes{CreateIndex: index, ModifyIndex: index}}
	if cmd.Zone != "" {
		a.Metadata[AggregateZoneKey] = cmd.Zone
	}
	if s.Aggregates == nil {
		s.Aggregates = map[string]*Aggregate{}
	}
	s.Aggregates[aggregateKey(a.ID)] = a
	return nil
}

func applyUpdateAggregate(s *State, index uint64, c Command) error {
	cmd := c.(*UpdateAggregate)
	a, ok := s.Aggregates[aggregateKey(cmd.ID)]
	if !ok {
		return errAggregateNotFound(cmd.ID)
	}
	if cmd.Name != nil {
		if err := checkAggregateText("name", *cmd.Name, false); err != nil {
			return err
		}
		if other := s.aggregateByName(*cmd.Name); other != nil && other != a {
			return fmt.Errorf("%w: Aggregate %s already exists.", ErrConflict, *cmd.Name)
		}
	}
	for k, v := range cmd.Metadata {
		if err := checkAggregateText("metadata key", k, false); err != nil {
			return err
		}
		if v != nil {
			if err := checkAggregateText("metadata value", *v, true); err != nil {
				return err
			}
		}
	}
	format := aggregateActionUpdate
	if cmd.SetMetadata {
		format = aggregateActionUpdateMeta
	}
	zoneChanges := false
	if z, ok := cmd.Metadata[AggregateZoneKey]; ok {
		zone := ""
		if z != nil {
			zone = *z
		}
		if err := s.checkZoneChange(a, zone, nil, ErrInvalid, format); err != nil {
			return err
		}
		// Servers do not change zone (Nova's check_no_instances_in_az).
		if zoneChanges = zone != a.Zone(); zoneChanges {
			for _, h := range a.Hosts {
				if s.serversOn(h) > 0 {
					return fmt.Errorf("%w: "+format, ErrInvalid, a.ID, "One or more hosts contain instances in this zone")
				}
			}
		}
	}
	if cmd.Name != nil {
		a.Name = *cmd.Name
	}
	for k, v := range cmd.Metadata {
		if v == nil {
			delete(a.Metadata, k)
		} else {
			a.Metadata[k] = *v
		}
	}
	s.aggregateChanged(a, index, cmd.Time, zoneChanges)
	return nil
}

func applyDeleteAggregate(s *State, _ uint64, c Command) error {
	cmd := c.(*DeleteAggregate)
	a, ok := s.Aggregates[aggregateKey(cmd.ID)]
	if !ok {
		return errAggregateNotFound(cmd.ID)
	}
	if len(a.Hosts) > 0 {
		return fmt.Errorf("%w: "+aggregateActionRemove, ErrInvalid, a.ID, "Host aggregate is not empty")
	}
	delete(s.Aggregates, aggregateKey(cmd.ID))
	return nil
}

// errZoneWouldMove is Nova's refusal to change the zone of a host with
// servers by adding it to or removing it from an aggregate.
func errZoneWouldMove(format string, id uint64, verb, from, to string, servers int) error {
	return fmt.Errorf("%w: "+format, ErrConflict, id, fmt.Sprintf("The host cannot be %s the aggregate as the "+
		"availability zone of the host would change from '%s' to '%s' "+
		"but the host already has %d instance(s). Changing the AZ of "+
		"an existing instance is not supported by this action. Move "+
		"the instances away from this host then try again. If you "+
		"need to move the instances between AZs then you can use "+
		"shelve_offload and unshelve to achieve this", verb, from, to, servers))
}

// pyNone is a zone as Python prints it ("" is None).
func pyNone(zone string) string {
	if zone == "" {
		return "None"
	}
	return zone
}

func applyAddAggregateHost(s *State, index uint64, c Command) error {
	cmd := c.(*AddAggregateHost)
	if _, ok := s.Hosts[cmd.Host]; !ok {
		return fmt.Errorf("%w: Compute host %s could not be found.", ErrNotFound, cmd.Host)
	}
	a, ok := s.Aggregates[aggregateKey(cmd.ID)]
	if !ok {
		return errAggregateNotFound(cmd.ID)
	}
	if zone := a.Zone(); zone != "" {
		if err := s.checkZoneChange(a, zone, []string{cmd.Host}, ErrConflict, aggregateActionAdd); err != nil {
			return err
		}
		if old, n := s.hostZone(cmd.Host, 0), s.serversOn(cmd.Host); n > 0 && old != zone {
			return errZoneWouldMove(aggregateActionAdd, a.ID, "added to", pyNone(old), zone, n)
		}
	}
	if slices.Contains(a.Hosts, cmd.Host) {
		return fmt.Errorf("%w: Aggregate %d already has host %s.", ErrConflict, a.ID, cmd.Host)
	}
	a.Hosts = append(a.Hosts, cmd.Host)
	s.aggregateChanged(a, index, cmd.Time, true)
	return nil
}

func applyRemoveAggregateHost(s *State, index uint64, c Command) error {
	cmd := c.(*RemoveAggregateHost)
	a, ok := s.Aggregates[aggregateKey(cmd.ID)]
	_, known := s.Hosts[cmd.Host]
	if !ok || !known || !slices.Contains(a.Hosts, cmd.Host) {
		return fmt.Errorf("%w: Cannot remove host %s in aggregate %d", ErrNotFound, cmd.Host, cmd.ID)
	}
	if zone := a.Zone(); zone != "" {
		if next, n := s.hostZone(cmd.Host, a.ID), s.serversOn(cmd.Host); n > 0 && next != zone {
			return errZoneWouldMove(aggregateActionRemove, a.ID, "removed from", zone, pyNone(next), n)
		}
	}
	a.Hosts = slices.DeleteFunc(a.Hosts, func(h string) bool { return h == cmd.Host })
	s.aggregateChanged(a, index, cmd.Time, true)
	return nil
}
