package api

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/shoal-project/shoal/fsm"
)

// Nova 2.86's validation of the extra specs it knows: a key of a known
// namespace (hw:, hw_rng:, quota:, os:, trait…: …) must be one of Nova's
// and its value of that key's kind; a key without a namespace, or of a
// namespace Nova does not know, is anyone's and passes.

type specKind int

const (
	specStr specKind = iota
	specInt
	specBool
)

// extraSpecRule is one of Nova's ExtraSpecValidator: name is the human
// form ("hw:numa_cpus.{num}"), regex the name's pattern (matched whole).
type extraSpecRule struct {
	name, regex string
	kind        specKind
	pattern     string   // specStr: the value's pattern (matched whole)
	enum        []string // specStr: the values allowed
	min, max    *int     // specInt
}

func ptr[T any](v T) *T { return &v }

// compiledSpecs are the rules' patterns and the namespaces they cover,
// compiled once.
var compiledSpecs = sync.OnceValue(func() (c struct {
	names, values []*regexp.Regexp
	namespaces    []*regexp.Regexp
}) {
	whole := func(p string) *regexp.Regexp { return regexp.MustCompile(`^(?:` + p + `)$`) }
	seen := map[string]bool{}
	for _, r := range knownExtraSpecs {
		c.names = append(c.names, whole(r.regex))
		var v *regexp.Regexp
		if r.pattern != "" {
			v = whole(r.pattern)
		}
		c.values = append(c.values, v)
		if ns, _, ok := strings.Cut(r.regex, ":"); ok && !seen[ns] {
			seen[ns] = true
			c.namespaces = append(c.namespaces, whole(ns))
		}
	}
	return c
})

// ValidateExtraSpec is Nova's validators.validate(name, value): an error
// (fsm.ErrInvalid, Nova's message) for a known key with a bad value or an
// unknown key of a known namespace.
func ValidateExtraSpec(name, value string) error {
	c := compiledSpecs()
	for i, r := range knownExtraSpecs {
		if r.name == name || c.names[i].MatchString(name) {
			return r.check(value, c.values[i])
		}
	}
	ns, _, ok := strings.Cut(name, ":")
	if !ok {
		return nil
	}
	for _, known := range c.namespaces {
		if known.MatchString(ns) {
			return invalidSpec("extra spec '%s' does not appear to be a valid extra spec.", name)
		}
	}
	return nil
}

func invalidSpec(format string, args ...any) error {
	return fmt.Errorf("%w: Validation failed; "+format, append([]any{fsm.ErrInvalid}, args...)...)
}

func (r extraSpecRule) check(value string, pattern *regexp.Regexp) error {
	switch r.kind {
	case specInt:
		n, err := strconv.Atoi(strings.TrimSpace(value))
		switch {
		case err != nil:
			return invalidSpec("'%s' is not a valid integer value.", value)
		case r.max != nil && *r.max < n:
			return invalidSpec("'%s' is greater than the max value of '%d'.", value, *r.max)
		case r.min != nil && *r.min > n:
			return invalidSpec("'%s' is less than the min value of '%d'.", value, *r.min)
		}
	case specBool:
		if _, err := parseBool("", value); err != nil || strings.TrimSpace(value) == "" {
			return invalidSpec("'%s' is not a valid boolean-like value.", value)
		}
	default:
		if pattern != nil && !pattern.MatchString(value) {
			return invalidSpec("'%s' is not of the format '%s'.", value, r.pattern)
		}
		if pattern == nil && r.enum != nil && !slices.Contains(r.enum, value) {
			return invalidSpec("'%s' is not one of: %s.", value, strings.Join(r.enum, ", "))
		}
	}
	return nil
}
