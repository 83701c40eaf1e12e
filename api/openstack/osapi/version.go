package osapi

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// Version is a microversion, major.minor.
type Version struct{ Major, Minor int }

// V is Version{major, minor}.
func V(major, minor int) Version { return Version{major, minor} }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less reports whether v comes before o.
func (v Version) Less(o Version) bool {
	return v.Major < o.Major || v.Major == o.Major && v.Minor < o.Minor
}

// AtLeast reports whether v is major.minor or later: renderers ask it
// before adding what a microversion introduced.
func (v Version) AtLeast(major, minor int) bool { return !v.Less(V(major, minor)) }

// versionSyntax is Nova's (api_version_request.py): no leading zeros.
var versionSyntax = regexp.MustCompile(`^([1-9]\d*)\.([1-9]\d*|0)$`)

// ParseVersion reads "2.1"; ok is false for anything else.
func ParseVersion(s string) (Version, bool) {
	m := versionSyntax.FindStringSubmatch(s)
	if m == nil {
		return Version{}, false
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return Version{}, false
	}
	return V(major, minor), true
}

// Range is the versions a route exists in, both ends included; the zero
// Max means no upper end.
type Range struct{ Min, Max Version }

// Since is the range from major.minor on.
func Since(major, minor int) Range { return Range{Min: V(major, minor)} }

// Until is the range up to and including major.minor.
func Until(major, minor int) Range { return Range{Min: V(2, 1), Max: V(major, minor)} }

// Holds reports whether v is in r.
func (r Range) Holds(v Version) bool {
	if v.Less(r.Min) {
		return false
	}
	return r.Max == (Version{}) || !r.Max.Less(v)
}

// FaultFunc writes an error in a service's dialect.
type FaultFunc func(w http.ResponseWriter, status int, message string)

// Negotiator is one service's microversion rule: the headers it reads, in
// order (OpenStack-API-Version "<service> X" first, then the legacy
// header), and the versions it serves.
type Negotiator struct {
	Service      string // "compute"
	LegacyHeader string // "X-OpenStack-Nova-API-Version"
	Min, Max     Version
}

type versionKey struct{}

// Requested is the microversion the request negotiated (Min when the
// request went through no Negotiator).
func Requested(ctx context.Context) Version {
	if v, ok := ctx.Value(versionKey{}).(Version); ok {
		return v
	}
	return V(2, 1)
}

// WithVersion returns ctx carrying v, for renderers under test.
func WithVersion(ctx context.Context, v Version) context.Context {
	return context.WithValue(ctx, versionKey{}, v)
}

// Negotiate reads the version r asks for: none is Min, "latest" is Max; a
// malformed one is 400, one outside [Min, Max] 406, with Nova's messages.
func (n Negotiator) Negotiate(r *http.Request) (Version, int, string) {
	raw, found := n.header(r)
	if !found {
		return n.Min, 0, ""
	}
	if strings.EqualFold(raw, "latest") {
		return n.Max, 0, ""
	}
	v, ok := ParseVersion(raw)
	if !ok {
		return Version{}, http.StatusBadRequest, fmt.Sprintf("API Version String %s is of invalid format. Must be of format MajorNum.MinorNum.", raw)
	}
	if v.Less(n.Min) || n.Max.Less(v) {
		return Version{}, http.StatusNotAcceptable, fmt.Sprintf("Version %s is not supported by the API. Minimum is %s and maximum is %s.", v, n.Min, n.Max)
	}
	return v, 0, ""
}

// header finds the requested version: OpenStack-API-Version may name
// several services, comma separated ("compute 2.60, image 2.5").
func (n Negotiator) header(r *http.Request) (string, bool) {
	for _, h := range r.Header.Values("OpenStack-API-Version") {
		for _, part := range strings.Split(h, ",") {
			fields := strings.Fields(part)
			if len(fields) == 2 && strings.EqualFold(fields[0], n.Service) {
				return fields[1], true
			}
		}
	}
	if v := strings.TrimSpace(r.Header.Get(n.LegacyHeader)); v != "" {
		return v, true
	}
	return "", false
}

// Wrap serves h at the negotiated version, answering with the version
// headers (also on errors past negotiation, as Nova does). Outside ranges
// (when given) the route does not exist: 404, as Nova answers a method a
// microversion removed or has not added yet.
func (n Negotiator) Wrap(h http.HandlerFunc, fault FaultFunc, ranges ...Range) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, status, msg := n.Negotiate(r)
		if status != 0 {
			fault(w, status, msg)
			return
		}
		hd := w.Header()
		hd.Set("OpenStack-API-Version", n.Service+" "+v.String())
		hd.Set(n.LegacyHeader, v.String())
		hd.Add("Vary", "OpenStack-API-Version, "+n.LegacyHeader)
		if len(ranges) > 0 && !anyHolds(ranges, v) {
			fault(w, http.StatusNotFound, "The resource could not be found.")
			return
		}
		h(w, r.WithContext(WithVersion(r.Context(), v)))
	}
}

func anyHolds(rs []Range, v Version) bool {
	for _, r := range rs {
		if r.Holds(v) {
			return true
		}
	}
	return false
}
