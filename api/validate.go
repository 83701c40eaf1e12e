package api

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shoal-project/shoal/fsm"
)

// Limits shared by names, metadata and properties (Nova's and Glance's).
const (
	maxNameLen     = 255
	maxMetaItems   = 128
	maxMetaKeyLen  = 255
	maxMetaValLen  = 255
	maxReasonLen   = 255
	maxFilterLen   = 255
	maxResourceRef = 255
)

// validName checks a user-chosen name: 1..255 characters of valid UTF-8,
// no control characters, no surrounding whitespace. what names it in the
// message ("flavor name", "server name").
func validName(what, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return fmt.Errorf("%w: %s must not be empty", fsm.ErrInvalid, what)
	case n > maxNameLen:
		return fmt.Errorf("%w: %s must be at most %d characters, got %d", fsm.ErrInvalid, what, maxNameLen, n)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %s is not valid UTF-8", fsm.ErrInvalid, what)
	case hasControl(name):
		return fmt.Errorf("%w: %s must not contain control characters", fsm.ErrInvalid, what)
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("%w: %s must not start or end with whitespace", fsm.ErrInvalid, what)
	}
	return nil
}

// validText checks free text that may be empty (a reason, a metadata value).
func validText(what, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not valid UTF-8", fsm.ErrInvalid, what)
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%w: %s must be at most %d characters", fsm.ErrInvalid, what, max)
	case hasControl(s):
		return fmt.Errorf("%w: %s must not contain control characters", fsm.ErrInvalid, what)
	}
	return nil
}

// validMetadata bounds a string map (server metadata, image properties) as
// Nova does: at most 128 items, keys of 1..255 characters, values up to 255.
func validMetadata(what string, m map[string]string) error {
	if len(m) > maxMetaItems {
		return fmt.Errorf("%w: %s may have at most %d items, got %d", fsm.ErrInvalid, what, maxMetaItems, len(m))
	}
	for k, v := range m {
		if k == "" {
			return fmt.Errorf("%w: %s keys must not be empty", fsm.ErrInvalid, what)
		}
		if err := validText(fmt.Sprintf("%s key %q", what, truncate(k)), k, maxMetaKeyLen); err != nil {
			return err
		}
		if err := validText(fmt.Sprintf("%s value of %q", what, truncate(k)), v, maxMetaValLen); err != nil {
			return err
		}
	}
	return nil
}

// validRef checks an ID-or-name reference before it is looked up.
func validRef(what, ref string) error {
	if ref == "" {
		return fmt.Errorf("%w: %s is required", fsm.ErrInvalid, what)
	}
	return validText(what, ref, maxResourceRef)
}

func hasControl(s string) bool { return strings.IndexFunc(s, unicode.IsControl) >= 0 }

// truncate keeps error messages short when the offending input is long.
func truncate(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
