package nova

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// The value formats of Nova's server schemas that body.go's readers do
// not cover: names, UUIDs, addresses, metadata. Each checks what Nova's
// JSON schema checks, with its complaint, so a bad body is refused before
// anything is looked up or proposed.

// failure is an answer with Nova's status and words (body.go's fault).
func failure(status int, format string, args ...any) error {
	return &fault{status: status, message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error { return failure(http.StatusNotFound, format, args...) }
func conflict(format string, args ...any) error { return failure(http.StatusConflict, format, args...) }

// policyErr is the 403 Nova's policy engine answers.
func policyErr(rule string) error {
	return failure(http.StatusForbidden, "Policy doesn't allow %s to be performed.", rule)
}

// asObject decodes raw, the value of field, as a JSON object.
func asObject(field string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var b map[string]json.RawMessage
	if !isKind(raw, '{') || json.Unmarshal(raw, &b) != nil {
		return nil, invalidInput(field, raw, "It is not of type 'object'")
	}
	return b, nil
}

// asList decodes raw, the value of field, as a JSON array.
func asList(field string, raw json.RawMessage) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if !isKind(raw, '[') || json.Unmarshal(raw, &items) != nil {
		return nil, invalidInput(field, raw, fmt.Sprintf("%s is not of type 'array'", truncated(raw)))
	}
	return items, nil
}

// isKind reports whether raw's first byte is open ('{', '[', '"').
func isKind(raw json.RawMessage, open byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == open
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// boundedText is a string of min to max characters.
func boundedText(field string, raw json.RawMessage, min, max int) (string, error) {
	s, err := stringField(field, raw)
	if err != nil {
		return "", err
	}
	switch n := utf8.RuneCountInString(s); {
	case n < min:
		return "", invalidInput(field, raw, fmt.Sprintf("'%s' is too short", s))
	case n > max:
		return "", invalidInput(field, raw, fmt.Sprintf("'%s' is too long", s))
	}
	return s, nil
}

// name is Nova's "name" format: 1 to 255 printable characters, neither
// first nor last a space.
func name(field string, raw json.RawMessage) (string, error) {
	s, err := boundedText(field, raw, 1, 255)
	if err != nil {
		return "", err
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	printable := !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' })
	if !printable || unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "", badRequest("An invalid 'name' value was provided. The name must be: printable characters. " +
			"Can not start or end with whitespace.")
	}
	return s, nil
}

// uuidText is a string in one of the forms oslo's is_uuid_like accepts,
// returned in its canonical form.
func uuidText(field string, raw json.RawMessage) (string, error) {
	s, err := stringField(field, raw)
	if err != nil {
		return "", err
	}
	u, perr := uuid.Parse(s)
	if perr != nil {
		return "", invalidInput(field, raw, fmt.Sprintf("'%s' is not a 'uuid'", s))
	}
	return u.String(), nil
}

// address is an IPv4 (v6 false) or IPv6 address.
func address(field string, raw json.RawMessage, v6 bool) (string, error) {
	s, err := stringField(field, raw)
	if err != nil {
		return "", err
	}
	a, perr := netip.ParseAddr(s)
	if perr != nil || a.Is6() != v6 || a.Zone() != "" {
		format := "ipv4"
		if v6 {
			format = "ipv6"
		}
		return "", invalidInput(field, raw, fmt.Sprintf("'%s' is not a '%s'", s, format))
	}
	return a.String(), nil
}

// anyAddress is an IPv4 or IPv6 address (Nova's ip_address).
func anyAddress(field string, raw json.RawMessage) (string, error) {
	if a, err := address(field, raw, false); err == nil {
		return a, nil
	}
	a, err := address(field, raw, true)
	if err != nil {
		return "", invalidInput(field, raw, fmt.Sprintf("%s is not valid under any of the given schemas", truncated(raw)))
	}
	return a, nil
}

// metadataKey is the key pattern of Nova's metadata schema.
var metadataKey = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)

// metadata is Nova's metadata object: keys of 1 to 255 letters, digits and
// "-_:. ", values strings of at most 255 characters.
func metadata(field string, raw json.RawMessage) (map[string]string, error) {
	b, err := asObject(field, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(b))
	for k, v := range b {
		if !metadataKey.MatchString(k) {
			return nil, invalidInput(field, raw, fmt.Sprintf("Additional properties are not allowed ('%s' was unexpected)", k))
		}
		s, err := boundedText(k, v, 0, 255)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

// Nova's hostname formats: a label from 2.90, a fully qualified name
// (underscores allowed, as in real systems) from 2.94.
var (
	hostnameLabel = regexp.MustCompile(`^[a-zA-Z0-9]+[a-zA-Z0-9-]*[a-zA-Z0-9]+$`)
	hostnameFQDN  = regexp.MustCompile(`^[a-zA-Z0-9-._]*$`)
)

// hostname is a server's hostname in the format of version v.
func hostname(field string, raw json.RawMessage, v osapi.Version) (string, error) {
	min, max, re := 2, 63, hostnameLabel
	if v.AtLeast(2, 94) {
		min, max, re = 1, 255, hostnameFQDN
	}
	s, err := boundedText(field, raw, min, max)
	if err == nil && !re.MatchString(s) {
		err = invalidInput(field, raw, fmt.Sprintf("'%s' does not match '%s'", s, re.String()))
	}
	return s, err
}
