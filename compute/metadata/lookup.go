package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"path"
	"slices"
	"strings"
)

// ErrNotFound is a path the instance's metadata does not have (HTTP 404,
// as Nova answers).
var ErrNotFound = errors.New("metadata: not found")

// Content is what one path answers.
type Content struct {
	Body []byte
	Type string // TypeText or TypeJSON
}

// Content types, as Nova's handler sets them.
const (
	TypeText = "text/plain; charset=UTF-8"
	TypeJSON = "application/json"
)

// The versions Nova serves, oldest first; "latest" is the last of each.
var (
	// EC2Versions are the EC2 API versions (Nova's VERSIONS).
	EC2Versions = []string{"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
		"2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04"}
	// OpenStackVersions are the OpenStack metadata versions, Folsom to Rocky.
	OpenStackVersions = []string{"2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30",
		"2016-10-06", "2017-02-22", "2018-08-27"}
)

// Latest names the newest version in both trees.
const Latest = "latest"

// Lookup renders the path p of inst's metadata, as Nova's
// InstanceMetadata.lookup: p is cleaned (a trailing slash means nothing),
// /openstack/... is the OpenStack tree, /ec2/... and anything else the EC2
// tree, and / lists the EC2 versions.
func Lookup(inst Instance, p string) (Content, error) {
	tokens := strings.Split(strings.TrimPrefix(path.Clean("/"+p), "/"), "/")
	switch tokens[0] {
	case "openstack":
		if len(tokens) == 1 {
			return text(strings.Join(append(slices.Clone(OpenStackVersions), Latest), "\n")), nil
		}
		return openstackItem(inst, tokens[1], strings.Join(tokens[2:], "/"))
	case "ec2":
		tokens = tokens[1:]
	}
	if len(tokens) == 0 || tokens[0] == "" {
		return text(strings.Join(append(slices.Clone(EC2Versions), Latest), "\n")), nil
	}
	return ec2Item(inst, tokens[0], tokens[1:])
}

// versionIndex is v's place in versions ("latest" the last); ok is false
// for a version that is not served.
func versionIndex(versions []string, v string) (int, bool) {
	if v == Latest {
		return len(versions) - 1, true
	}
	i := slices.Index(versions, v)
	return i, i >= 0
}

// atLeast reports whether the version at index i is since, or newer.
func atLeast(versions []string, i int, since string) bool {
	return i >= slices.Index(versions, since)
}

func text(s string) Content { return Content{Body: []byte(s), Type: TypeText} }

// jsonContent encodes v as Nova would: a JSON document, no HTML escaping
// (metadata values are the user's own text).
func jsonContent(v any) Content {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only maps, slices, strings and numbers are encoded here.
		panic("metadata: " + err.Error())
	}
	return Content{Body: bytes.TrimSuffix(b.Bytes(), []byte("\n")), Type: TypeJSON}
}
