package fsm

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// MaxHostnameLength is the longest hostname a server may be given (Nova's
// fqdn, 2.94); a name derived from the server's name is cut at 63, the
// shortest limit among guests and dnsmasq.
const (
	MaxHostnameLength     = 255
	maxDerivedHostnameLen = 63
)

// ValidHostname checks a server's hostname as Apply keeps it: 1 to
// MaxHostnameLength characters, none of them a space or a control
// character. Which characters a user may choose is the API's rule (Nova's
// patterns differ by microversion); one derived from a name may hold
// Latin-1 letters, as Nova's does.
func ValidHostname(h string) error {
	if h == "" || len(h) > MaxHostnameLength || strings.ContainsFunc(h, unicode.IsSpace) {
		return fmt.Errorf("%w: hostname %q is not 1 to %d characters without spaces", ErrInvalid, h, MaxHostnameLength)
	}
	return validText("hostname", h, MaxHostnameLength)
}

var (
	hostnameSeparators = regexp.MustCompile(`[ _.]`)
	hostnameOthers     = regexp.MustCompile(`[^\w.-]+`)
)

// SanitizeHostname is the hostname Nova derives from a server's name
// (utils.sanitize_hostname): Latin-1 only, cut at 63, spaces, '_' and '.'
// made '-', other non-word characters dropped, lower case, no leading or
// trailing '.' or '-'; fallback when nothing is left.
func SanitizeHostname(name, fallback string) string {
	var b strings.Builder
	for _, r := range name {
		if r <= 0xff {
			b.WriteRune(r)
		}
	}
	h := []rune(b.String())
	if len(h) > maxDerivedHostnameLen {
		h = h[:maxDerivedHostnameLen]
	}
	s := hostnameSeparators.ReplaceAllString(string(h), "-")
	s = hostnameOthers.ReplaceAllStringFunc(s, func(m string) string {
		// Python's \w is Unicode-aware: Latin-1 letters stay.
		var keep strings.Builder
		for _, r := range m {
			if r >= 0xc0 && r != 0xd7 && r != 0xf7 || r == 0xaa || r == 0xb5 || r == 0xba {
				keep.WriteRune(r)
			}
		}
		return keep.String()
	})
	s = strings.Trim(strings.ToLower(s), ".-")
	if s == "" {
		return fallback
	}
	return s
}
