package fsm

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Server tags (Nova 2.26): short strings a user hangs on a server and
// filters lists by. A server holds at most MaxInstanceTags, each of 1 to
// MaxTagLength characters without "," or "/" (Nova's schema); they are
// kept sorted, once each, so every replica shows the same list.

const (
	MaxInstanceTags = 50
	MaxTagLength    = 60
)

// AddInstanceTag puts one tag on a server (Nova's PUT
// /servers/{id}/tags/{tag}); a tag it already has changes nothing.
type AddInstanceTag struct {
	ID   string    `json:"id"`
	Tag  string    `json:"tag"`
	Time time.Time `json:"time"`
}

// DeleteInstanceTag takes one tag off a server, which must have it
// (ErrNotFound), or, with Tag "", all of them (Nova's DELETE
// /servers/{id}/tags[/{tag}]).
type DeleteInstanceTag struct {
	ID   string    `json:"id"`
	Tag  string    `json:"tag,omitempty"`
	Time time.Time `json:"time"`
}

// SetInstanceTags makes Tags all of a server's tags (Nova's PUT
// /servers/{id}/tags); a tag given twice counts once.
type SetInstanceTags struct {
	ID   string    `json:"id"`
	Tags []string  `json:"tags"`
	Time time.Time `json:"time"`
}

func (*AddInstanceTag) Type() Type    { return TypeAddInstanceTag }
func (*DeleteInstanceTag) Type() Type { return TypeDeleteInstanceTag }
func (*SetInstanceTags) Type() Type   { return TypeSetInstanceTags }

// ValidTag checks one tag: 1 to MaxTagLength characters, neither "," nor
// "/" among them.
func ValidTag(tag string) error {
	switch n := utf8.RuneCountInString(tag); {
	case n == 0:
		return fmt.Errorf("%w: a tag is empty", ErrInvalid)
	case n > MaxTagLength:
		return fmt.Errorf("%w: tag %q is longer than %d characters", ErrInvalid, tag, MaxTagLength)
	case strings.ContainsAny(tag, ",/"):
		return fmt.Errorf("%w: tag %q contains ',' or '/'", ErrInvalid, tag)
	}
	return validText("tag", tag, MaxTagLength)
}

// NormalTags checks tags and returns them sorted, once each; more than
// MaxInstanceTags distinct ones is ErrInvalid with Nova's message.
func NormalTags(tags []string) ([]string, error) {
	for _, t := range tags {
		if err := ValidTag(t); err != nil {
			return nil, err
		}
	}
	out := slices.Clone(tags)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxInstanceTags {
		return nil, fmt.Errorf("%w: The number of tags exceeded the per-server limit %d", ErrInvalid, MaxInstanceTags)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// CheckTagState refuses a tag change of a server that is not ACTIVE,
// PAUSED, SUSPENDED or SHUTOFF (Nova's 409 for server tags, which, unlike
// a metadata change, does not look at the task).
func (i *Instance) CheckTagState(action string) error {
	if !slices.Contains(metadataStates, i.VMState) {
		return fmt.Errorf("%w: Cannot '%s' instance %s while it is in vm_state %s", ErrConflict, action, i.ID, i.VMState)
	}
	return nil
}

func (s *State) taggable(id, action string) (*Instance, error) {
	inst, ok := s.Instances[id]
	if !ok {
		return nil, fmt.Errorf("%w: server %q", ErrNotFound, id)
	}
	return inst, inst.CheckTagState(action)
}

func applyAddInstanceTag(s *State, index uint64, c Command) error {
	cmd := c.(*AddInstanceTag)
	if err := ValidTag(cmd.Tag); err != nil {
		return err
	}
	inst, err := s.taggable(cmd.ID, "update tag")
	if err != nil {
		return err
	}
	if slices.Contains(inst.Tags, cmd.Tag) {
		return nil
	}
	tags, err := NormalTags(append(slices.Clone(inst.Tags), cmd.Tag))
	if err != nil {
		return err
	}
	inst.Tags, inst.Updated, inst.ModifyIndex = tags, cmd.Time, index
	return nil
}

func applyDeleteInstanceTag(s *State, index uint64, c Command) error {
	cmd := c.(*DeleteInstanceTag)
	action := "delete tag"
	if cmd.Tag == "" {
		action = "delete tags"
	}
	inst, err := s.taggable(cmd.ID, action)
	if err != nil {
		return err
	}
	switch {
	case cmd.Tag == "":
		inst.Tags = nil
	case !slices.Contains(inst.Tags, cmd.Tag):
		return fmt.Errorf("%w: Instance %s has no tag '%s'", ErrNotFound, inst.ID, cmd.Tag)
	default:
		inst.Tags = slices.DeleteFunc(slices.Clone(inst.Tags), func(t string) bool { return t == cmd.Tag })
		if len(inst.Tags) == 0 {
			inst.Tags = nil
		}
	}
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	return nil
}

func applySetInstanceTags(s *State, index uint64, c Command) error {
	cmd := c.(*SetInstanceTags)
	tags, err := NormalTags(cmd.Tags)
	if err != nil {
		return err
	}
	inst, err := s.taggable(cmd.ID, "update tags")
	if err != nil {
		return err
	}
	inst.Tags, inst.Updated, inst.ModifyIndex = tags, cmd.Time, index
	return nil
}
