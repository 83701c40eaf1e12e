package osapi

import "time"

// TimeFormat is how Nova, Glance and Neutron write times: UTC, seconds,
// a literal Z.
const TimeFormat = "2006-01-02T15:04:05Z"

// Time writes t in TimeFormat; the zero time is "" (callers that need JSON
// null say so in their view type).
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimeFormat)
}

// Link is one entry of an OpenStack "links" list.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
	Type string `json:"type,omitempty"`
}

// SelfAndBookmark are a resource's self link (under the versioned root,
// e.g. base+"/compute/v2.1") and its bookmark (under the unversioned one,
// base+"/compute"): path is the resource's path below both ("/servers/ID").
func SelfAndBookmark(versioned, unversioned, path string) []Link {
	return []Link{{Rel: "self", Href: versioned + path}, {Rel: "bookmark", Href: unversioned + path}}
}
