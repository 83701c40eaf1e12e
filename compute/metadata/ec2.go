package metadata

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// An EC2 tree is nested maps (directories) of strings, ints and string
// lists (leaves), as Nova builds it. A directory's nameKey, if any, is how
// its parent lists it (public-keys/ lists "0=<key name>", not "0/").
const nameKey = "_name"

// ec2Item is /<version>/<tokens...> of the EC2 tree.
func ec2Item(inst Instance, version string, tokens []string) (Content, error) {
	v, ok := versionIndex(EC2Versions, version)
	if !ok {
		return Content{}, ErrNotFound
	}
	root := map[string]any{"meta-data": ec2MetaData(inst, v)}
	if inst.UserData != nil {
		root["user-data"] = inst.UserData
	}
	var node any = root
	for _, tok := range tokens {
		dir, ok := node.(map[string]any)
		if !ok || tok == nameKey {
			return Content{}, ErrNotFound
		}
		if node, ok = dir[tok]; !ok {
			return Content{}, ErrNotFound
		}
	}
	return ec2Print(node), nil
}

// ec2MetaData is a version's meta-data directory (Nova's get_ec2_metadata,
// without what shoal has no value for: reservation, kernel and ramdisk,
// block devices, the manifest path). public-ipv4 is there only with a
// floating IP, as on EC2.
func ec2MetaData(inst Instance, v int) map[string]any {
	since := func(r string) bool { return atLeast(EC2Versions, v, r) }
	local := ""
	if inst.Port.IP.IsValid() {
		local = inst.Port.IP.String()
	}
	groups := inst.SecurityGroups
	if groups == nil {
		groups = []string{}
	}
	md := map[string]any{
		"ami-id":           ec2ID("ami", inst.ImageID),
		"ami-launch-index": inst.LaunchIndex,
		"hostname":         inst.Hostname,
		"instance-id":      ec2ID("i", inst.UUID),
		"local-ipv4":       local,
		"security-groups":  groups,
	}
	if inst.KeyName != "" {
		md["public-keys"] = map[string]any{
			"0": map[string]any{nameKey: "0=" + inst.KeyName, "openssh-key": inst.KeyData},
		}
	}
	if since("2007-01-19") {
		md["local-hostname"] = inst.Hostname
		md["public-hostname"] = inst.Hostname
		if inst.FloatingIP.IsValid() {
			md["public-ipv4"] = inst.FloatingIP.String()
		}
	}
	if since("2007-08-29") {
		md["instance-type"] = inst.Flavor
	}
	if since("2008-02-01") {
		md["placement"] = map[string]any{"availability-zone": inst.AvailabilityZone}
	}
	if since("2008-09-01") {
		md["instance-action"] = "none"
	}
	return md
}

// ec2ID is an EC2-style ID (Nova's "i-%08x", "ami-%08x") made of the first
// 8 hex digits of a UUID: stable for the server's life and short as EC2's.
func ec2ID(prefix, uuid string) string {
	hex := strings.ReplaceAll(uuid, "-", "")
	if len(hex) > 8 {
		hex = hex[:8]
	}
	return prefix + "-" + strings.Repeat("0", 8-len(hex)) + strings.ToLower(hex)
}

// ec2Print renders a node as Nova's ec2_md_print: a directory lists its
// entries sorted, subdirectories with a slash (or their name entry); a
// list is one item a line; a leaf is itself.
func ec2Print(node any) Content {
	switch n := node.(type) {
	case map[string]any:
		var lines []string
		for _, k := range slices.Sorted(maps.Keys(n)) {
			if k == nameKey {
				continue
			}
			sub, isDir := n[k].(map[string]any)
			switch label, named := sub[nameKey].(string); {
			case named:
				lines = append(lines, label)
			case isDir:
				lines = append(lines, k+"/")
			default:
				lines = append(lines, k)
			}
		}
		return text(strings.Join(lines, "\n"))
	case []string:
		return text(strings.Join(n, "\n"))
	case []byte:
		return Content{Body: n, Type: TypeText}
	case string:
		return text(n)
	case int:
		return text(strconv.Itoa(n))
	}
	panic(fmt.Sprintf("metadata: EC2 node of type %T", node))
}

// ec2JSON is a meta-data directory as a config drive's meta-data.json:
// the same tree without the name entries (Nova deletes public-keys' too).
func ec2JSON(node any) any {
	dir, ok := node.(map[string]any)
	if !ok {
		return node
	}
	out := make(map[string]any, len(dir))
	for k, v := range dir {
		if k != nameKey {
			out[k] = ec2JSON(v)
		}
	}
	return out
}
