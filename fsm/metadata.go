package fsm

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Limits of the free text users attach to objects: Nova's and Glance's
// column sizes, so that what shoal stores their clients can show.
const (
	// MaxMetadataKeyLength and MaxMetadataValueLength bound server
	// metadata, flavor extra specs and image properties (Nova's 255 for
	// both; Glance's properties share the rule).
	MaxMetadataKeyLength   = 255
	MaxMetadataValueLength = 255
	// MaxServerDescription is Nova's limit on a server's description
	// (2.19), MaxFlavorDescription that on a flavor's (2.55).
	MaxServerDescription = 255
	MaxFlavorDescription = 65535
	// MaxLockReason is Nova's limit on locked_reason (2.73).
	MaxLockReason = 255
	// MaxImageTags and MaxImageProperties are Glance's default quotas
	// (image_tag_quota, image_property_quota); a tag is a name (1 to 255
	// characters).
	MaxImageTags       = 128
	MaxImageProperties = 128
)

// ValidMetadata checks the shape of a string map (server metadata, flavor
// extra specs, image properties): keys of 1 to 255 characters, values of
// at most 255, neither with control characters. How many items a map may
// hold is not part of the shape: server metadata counts against the
// metadata_items quota, image properties against MaxImageProperties. Keys
// are checked in order, so every replica names the same culprit. what
// names the map in the message ("metadata", "extra spec").
func ValidMetadata(what string, m map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if err := validName(what+" key", k); err != nil {
			return err
		}
		if err := validText(fmt.Sprintf("%s value of %q", what, short(k)), m[k], MaxMetadataValueLength); err != nil {
			return err
		}
	}
	return nil
}

// validText checks free text that may be empty: at most max characters,
// no control characters. The codec has made it valid UTF-8 already.
func validText(what, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("%w: %s is longer than %d characters", ErrInvalid, what, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %s contains a control character", ErrInvalid, what)
		}
	}
	return nil
}

// validAccessIP checks an access address of family 4 or 6: empty (none) or
// an address of that family in canonical form (no zone, no IPv4-mapped
// IPv6 for family 4), so that every replica stores the same spelling.
func validAccessIP(family int, s string) error {
	if s == "" {
		return nil
	}
	a, err := netip.ParseAddr(s)
	ok := err == nil && a.Zone() == "" && a.String() == s &&
		(family == 4 && a.Is4() || family == 6 && a.Is6() && !a.Is4In6())
	if !ok {
		return fmt.Errorf("%w: accessIPv%d %q is not an IPv%d address in canonical form", ErrInvalid, family, short(s), family)
	}
	return nil
}

// short keeps error messages short when the offending input is long.
func short(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max]) + "…"
}
