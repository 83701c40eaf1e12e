package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/shoal-project/shoal/fsm"
)

// readBody reads at most maxBodyBytes of a request body that must not be empty.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, fmt.Errorf("%w: the limit is %d bytes", errTooLarge, tooLarge.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: reading request body: %v", fsm.ErrInvalid, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: request body is empty", fsm.ErrInvalid)
	}
	return b, nil
}

// decodeStrict decodes exactly one JSON value from b into v, refusing fields v
// does not have.
func decodeStrict(b []byte, v any) error {
	if err := checkText(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %s", fsm.ErrInvalid, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: request body: unexpected data after the JSON value", fsm.ErrInvalid)
	}
	return nil
}

// checkText refuses what encoding/json would silently turn into U+FFFD, so
// that a name is stored as sent or not at all: bytes that are not UTF-8, and
// a \u escape of half a UTF-16 surrogate pair without its other half.
// Backslashes occur only inside JSON strings, so the raw body can be scanned
// for escapes without tracking where strings start and end.
func checkText(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: request body is not valid UTF-8", fsm.ErrInvalid)
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		i++ // the escaped character: a backslash escaping a backslash is skipped whole
		r, ok := escapedRune(b, i-1)
		if !ok || !utf16.IsSurrogate(r) {
			continue
		}
		if lo, ok := escapedRune(b, i+5); ok && utf16.DecodeRune(r, lo) != unicode.ReplacementChar {
			i += 10 // the pair: one character outside the Basic Multilingual Plane
			continue
		}
		return fmt.Errorf("%w: request body: \\u%04x at byte %d is half of a UTF-16 surrogate pair without its other half",
			fsm.ErrInvalid, r, i-1)
	}
	return nil
}

// escapedRune reads a \uXXXX escape starting at b[i].
func escapedRune(b []byte, i int) (rune, bool) {
	if i < 0 || i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 16)
	return rune(n), err == nil
}

// decodeBody reads and strictly decodes a request body into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	return decodeStrict(b, v)
}

// topLevelKeys returns the keys of b, which must be one JSON object.
func topLevelKeys(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := decodeStrict(b, &m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("%w: request body must be a JSON object", fsm.ErrInvalid)
	}
	return m, nil
}

// describeJSONError turns encoding/json's errors into messages about the body.
func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind()), typ.Value)
		}
		return fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind()), typ.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a " + k.String()
}

// decodeWrapped reads a create request either bare ({"name":...}) or wrapped
// as {key: {...}}, Nova's form. The wrapped form is chosen when the
// top-level object has key; it may then have no other key.
func decodeWrapped(w http.ResponseWriter, r *http.Request, key string, v any) error {
	b, err := readBody(w, r)
	if err != nil {
		return err
	}
	keys, err := topLevelKeys(b)
	if err != nil {
		return err
	}
	inner, wrapped := keys[key]
	if !wrapped {
		return decodeStrict(b, v)
	}
	for k := range keys {
		if k != key {
			return fmt.Errorf("%w: request body: unknown field %q", fsm.ErrInvalid, k)
		}
	}
	if bytes.Equal(bytes.TrimSpace(inner), []byte("null")) {
		return fmt.Errorf("%w: %q must be an object", fsm.ErrInvalid, key)
	}
	return decodeStrict(inner, v)
}

// decodeOptional strictly decodes a request body into v when there is one;
// an empty body leaves v as it is.
func decodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%w: the limit is %d bytes", errTooLarge, tooLarge.Limit)
	}
	if err != nil {
		return fmt.Errorf("%w: reading request body: %v", fsm.ErrInvalid, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return decodeStrict(b, v)
}
