package nova

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/shoal-project/shoal/fsm"
)

// Decoding Nova's request bodies. Nova validates every body against a JSON
// schema before it looks at the state, and a body that fails gets 400 with
// the schema's complaint ("Invalid input for field/attribute name. Value:
// . '' is too short"); these helpers check the same things, in the same
// words where clients or Tempest could care, so a bad body is refused
// before anything is looked up or proposed.

// maxBody bounds a request body: Nova's osapi_max_request_body_size
// (114688 bytes) has room for the largest user_data (65535 bytes).
const maxBody = 114688

// novaError is an error in Nova's words: its message is what the fault
// body carries, and it wraps the fsm sentinel that gives its status.
type novaError struct {
	sentinel error
	message  string
}

func (e *novaError) Error() string { return e.message }
func (e *novaError) Unwrap() error { return e.sentinel }

func novaErr(sentinel error, format string, args ...any) error {
	return &novaError{sentinel: sentinel, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error { return novaErr(fsm.ErrInvalid, format, args...) }

// withoutSentinel is err in Nova's words: api's errors read "invalid:
// Image x could not be found.", and a Nova fault carries only what follows
// the sentinel's text. The status still comes from the sentinel.
func withoutSentinel(err error) error {
	var ne *novaError
	if err == nil || errors.As(err, &ne) {
		return err
	}
	kind := fsm.ErrorOfKind(fsm.KindOf(err))
	if kind == nil {
		return err
	}
	msg, ok := strings.CutPrefix(err.Error(), kind.Error()+": ")
	if !ok {
		return err
	}
	return &novaError{sentinel: err, message: msg}
}

// body is a decoded JSON object: its members, raw.
type body map[string]json.RawMessage

// readBody reads r's body as one JSON value, as Nova's deserializer does:
// an empty body is JSON null (the schema then refuses it), bytes that are
// not JSON are "Malformed request body", and more than maxBody is 413.
func readBody(r *http.Request) (json.RawMessage, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest("Malformed request body")
	}
	if len(data) > maxBody {
		return nil, novaErr(errTooLarge, "Request is too large.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(data) {
		return nil, badRequest("Malformed request body")
	}
	return data, nil
}

// errTooLarge is a sentinel whose status is 413 (api's table has one for
// its own too-large errors, which modules cannot name).
var errTooLarge = fsm.NewError("too_large", "request too large")

// object decodes raw as a JSON object; field names it in the complaint.
func object(field string, raw json.RawMessage) (body, error) {
	var b body
	if !isKind(raw, '{') || json.Unmarshal(raw, &b) != nil {
		return nil, invalid(field, raw, "%s is not of type 'object'", show(raw))
	}
	return b, nil
}

// only refuses members of b other than allowed, with the schema's words.
func (b body) only(field string, raw json.RawMessage, allowed ...string) error {
	var extra []string
	for k := range b {
		if !slices.Contains(allowed, k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return invalid(field, raw, "Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb)
}

// require refuses b when it lacks key.
func (b body) require(field string, raw json.RawMessage, key string) error {
	if _, ok := b[key]; !ok {
		return invalid(field, raw, "'%s' is a required property", key)
	}
	return nil
}

// invalid is the schema's complaint about field (Nova names the innermost
// one); at the top level there is no field to name.
func invalid(field string, raw json.RawMessage, format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if field == "" {
		return badRequest("%s", reason)
	}
	return badRequest("Invalid input for field/attribute %s. Value: %s. %s", field, show(raw), reason)
}

// show renders a value as the complaint quotes it.
func show(raw json.RawMessage) string {
	if raw == nil {
		return "None"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var c bytes.Buffer
	if json.Compact(&c, raw) != nil {
		return string(raw)
	}
	return c.String()
}

// isKind reports whether raw's first byte is open ('{', '[', '"').
func isKind(raw json.RawMessage, open byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == open
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// text decodes a JSON string.
func text(field string, raw json.RawMessage) (string, error) {
	var s string
	if !isKind(raw, '"') || json.Unmarshal(raw, &s) != nil {
		return "", invalid(field, raw, "%s is not of type 'string'", show(raw))
	}
	return s, nil
}

// boundedText is a string of min to max characters.
func boundedText(field string, raw json.RawMessage, min, max int) (string, error) {
	s, err := text(field, raw)
	if err != nil {
		return "", err
	}
	switch n := utf8.RuneCountInString(s); {
	case n < min:
		return "", invalid(field, raw, "'%s' is too short", s)
	case n > max:
		return "", invalid(field, raw, "'%s' is too long", s)
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

// boolean is Nova's boolean: true or false, or one of the strings
// oslo's bool_from_string knows.
func boolean(field string, raw json.RawMessage) (bool, error) {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch strings.ToLower(s) {
		case "true", "1", "on", "yes":
			return true, nil
		case "false", "0", "off", "no":
			return false, nil
		}
	}
	return false, invalid(field, raw, "%s is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', "+
		"'YES', 'Yes', 'yes', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no']", show(raw))
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// positive is Nova's positive_integer: an integer, or a string of digits,
// of at least 1.
func positive(field string, raw json.RawMessage) (int, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if d.Decode(&n) != nil {
			return 0, invalid(field, raw, "%s is not of type 'integer', 'string'", show(raw))
		}
		s = n.String()
	}
	if !digits.MatchString(s) {
		return 0, invalid(field, raw, "'%s' does not match '^[0-9]*$'", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, invalid(field, raw, "%s is less than the minimum of 1", s)
	}
	return n, nil
}

// uuidText is a string in one of the forms oslo's is_uuid_like accepts,
// returned in its canonical form.
func uuidText(field string, raw json.RawMessage) (string, error) {
	s, err := text(field, raw)
	if err != nil {
		return "", err
	}
	u, perr := uuid.Parse(s)
	if perr != nil {
		return "", invalid(field, raw, "'%s' is not a 'uuid'", s)
	}
	return u.String(), nil
}

// address is an IPv4 (v6 false) or IPv6 address.
func address(field string, raw json.RawMessage, v6 bool) (string, error) {
	s, err := text(field, raw)
	if err != nil {
		return "", err
	}
	a, perr := netip.ParseAddr(s)
	if perr != nil || a.Is6() != v6 || a.Zone() != "" {
		format := "ipv4"
		if v6 {
			format = "ipv6"
		}
		return "", invalid(field, raw, "'%s' is not a '%s'", s, format)
	}
	return a.String(), nil
}

// metadataKey is the key pattern of Nova's metadata schema.
var metadataKey = regexp.MustCompile(`^[a-zA-Z0-9-_:. ]{1,255}$`)

// metadata is Nova's metadata object: keys of 1 to 255 letters, digits and
// "-_:. ", values strings of at most 255 characters.
func metadata(field string, raw json.RawMessage) (map[string]string, error) {
	b, err := object(field, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(b))
	for k, v := range b {
		if !metadataKey.MatchString(k) {
			return nil, invalid(field, raw, "Additional properties are not allowed ('%s' was unexpected)", k)
		}
		s, err := boundedText(k, v, 0, 255)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}
