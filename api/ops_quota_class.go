package api

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/shoal-project/shoal/fsm"
)

// Quota classes (Nova's os-quota-class-sets, an admin's): named quota sets
// over the defaults. The default class is the defaults every project
// without its own limits follows; any other name is accepted and stored,
// as in Nova, and changes nothing else.

// QuotaClass is the limits of class name (the defaults for a class never
// set, as Nova shows it).
func (o *Ops) QuotaClass(ctx context.Context, name string) (fsm.QuotaSet, error) {
	return o.s.state.QuotaClass(name), nil
}

// UpdateQuotaClass sets some limits of class name from Nova's
// quota_class_set object: known keys only, each an integer (or a string of
// one) of -1 or more; the name is 1 to 255 characters (oslo's message,
// which Nova gives).
func (o *Ops) UpdateQuotaClass(ctx context.Context, name string, set map[string]json.RawMessage) (uint64, fsm.QuotaSet, error) {
	switch n := utf8.RuneCountInString(name); {
	case n < 1:
		return 0, fsm.QuotaSet{}, fmt.Errorf("%w: quota_class_name has %d characters, less than 1.", fsm.ErrInvalid, n)
	case n > fsm.MaxQuotaClassName:
		return 0, fsm.QuotaSet{}, fmt.Errorf("%w: quota_class_name has %d characters, more than %d.", fsm.ErrInvalid, n, fsm.MaxQuotaClassName)
	}
	q, force, err := parseQuotaSet(set)
	if err == nil && force {
		err = fmt.Errorf("%w: a quota class takes no force", fsm.ErrInvalid)
	}
	if err != nil {
		return 0, fsm.QuotaSet{}, err
	}
	idx, err := o.s.apply(ctx, &fsm.SetQuotaClass{Name: name, Quota: q})
	if err != nil {
		return idx, fsm.QuotaSet{}, err
	}
	return idx, o.s.state.QuotaClass(name), nil
}
