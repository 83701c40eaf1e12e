package fsm

import (
	"fmt"
	"unicode/utf8"
)

// DefaultQuotaClass is the quota class whose limits every project without
// its own follows (Nova's "default" quota class): what it sets replaces
// DefaultQuota's figure.
const DefaultQuotaClass = "default"

// MaxQuotaClassName is the longest quota class name, in characters (Nova's
// quota_class_name check).
const MaxQuotaClassName = 255

// SetQuotaClass changes the limits given for one quota class and leaves
// the others as they were (Nova's PUT os-quota-class-sets/{name}). Any
// name is a class, as in Nova; only DefaultQuotaClass changes what
// projects get.
type SetQuotaClass struct {
	Name  string        `json:"name"`
	Quota QuotaOverride `json:"quota_class_set"`
}

func (*SetQuotaClass) Type() Type { return TypeSetQuotaClass }

func applySetQuotaClass(s *State, _ uint64, c Command) error {
	cmd := c.(*SetQuotaClass)
	if cmd.Name == "" || utf8.RuneCountInString(cmd.Name) > MaxQuotaClassName {
		return fmt.Errorf("%w: a quota class name is 1 to %d characters", ErrInvalid, MaxQuotaClassName)
	}
	given := cmd.Quota.limits()
	for k, v := range given {
		if *v != nil && **v < Unlimited {
			return fmt.Errorf("%w: quota %s must be -1 (unlimited) or more, not %d", ErrInvalid, quotaNames[k], **v)
		}
	}
	cur := s.QuotaClasses[cmd.Name]
	changed := false
	for k, v := range cur.limits() {
		if *given[k] != nil {
			n := **given[k] // a copy: the state shares nothing with the command
			*v, changed = &n, true
		}
	}
	if changed {
		if s.QuotaClasses == nil {
			s.QuotaClasses = map[string]QuotaOverride{}
		}
		s.QuotaClasses[cmd.Name] = cur
	}
	return nil
}

// over is q with o's limits where o gives them.
func (q QuotaSet) over(o QuotaOverride) QuotaSet {
	for k, v := range o.limits() {
		if *v != nil {
			*q.limits()[k] = **v
		}
	}
	return q
}

// defaultQuota is what a project without overrides gets: DefaultQuota
// under the default class.
func (s *State) defaultQuota() QuotaSet {
	return DefaultQuota().over(s.QuotaClasses[DefaultQuotaClass])
}

// QuotaClass is the limits of a quota class: its own over the defaults (a
// class never set is the defaults, as Nova shows it).
func (f *FSM) QuotaClass(name string) QuotaSet {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.defaultQuota().over(f.state.QuotaClasses[name])
}
