package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// transcript records what paths answer, for golden files.
type transcript struct {
	t    *testing.T
	inst Instance
	out  bytes.Buffer
}

// get renders p, records it and returns its lines.
func (tr *transcript) get(p string) []string {
	tr.t.Helper()
	c, err := Lookup(tr.inst, p)
	if err != nil {
		tr.t.Fatalf("%s was listed but answers %v", p, err)
	}
	fmt.Fprintf(&tr.out, "GET %s\n%s\n%s\n\n", p, c.Type, c.Body)
	return strings.Split(string(c.Body), "\n")
}

// ec2Dir walks an EC2 directory as cloud-init's crawler does: a line
// ending in "/" is a directory, "N=name" is the directory N/, anything
// else a leaf.
func (tr *transcript) ec2Dir(dir string) {
	for _, line := range tr.get(dir) {
		k, _, named := strings.Cut(line, "=")
		switch {
		case strings.HasSuffix(line, "/"):
			tr.ec2Dir(dir + line)
		case named:
			tr.ec2Dir(dir + k + "/")
		default:
			tr.get(dir + line)
		}
	}
}

// TestLookupGolden crawls every path of both trees for both fixtures, from
// the roots down through every listing, and compares each transcript with
// its golden file.
func TestLookupGolden(t *testing.T) {
	for _, fx := range []struct {
		name string
		inst Instance
	}{{"full", fullInstance()}, {"bare", bareInstance()}} {
		t.Run(fx.name+"/ec2", func(t *testing.T) {
			tr := &transcript{t: t, inst: fx.inst}
			for _, v := range tr.get("/") {
				tr.ec2Dir("/" + v + "/")
			}
			golden(t, fx.name+"-ec2.golden", tr.out.Bytes())
		})
		t.Run(fx.name+"/openstack", func(t *testing.T) {
			tr := &transcript{t: t, inst: fx.inst}
			for _, v := range tr.get("/openstack") {
				for _, f := range tr.get("/openstack/" + v) {
					tr.get("/openstack/" + v + "/" + f)
				}
			}
			golden(t, fx.name+"-openstack.golden", tr.out.Bytes())
		})
	}
}

// TestLookupNotFound: what a server does not have, a version that does not
// have a file, and paths outside the trees answer ErrNotFound.
func TestLookupNotFound(t *testing.T) {
	for _, tc := range []struct {
		inst Instance
		path string
	}{
		{bareInstance(), "/openstack/latest/user_data"},
		{bareInstance(), "/latest/user-data"},
		{bareInstance(), "/latest/meta-data/public-keys/"},
		{bareInstance(), "/latest/meta-data/public-ipv4"},
		{fullInstance(), "/openstack/2012-08-10/vendor_data.json"},
		{fullInstance(), "/openstack/2013-10-17/network_data.json"},
		{fullInstance(), "/openstack/2016-06-30/vendor_data2.json"},
		{fullInstance(), "/openstack/2011-01-01/meta_data.json"},
		{fullInstance(), "/openstack/latest/password"},
		{fullInstance(), "/openstack/latest/meta_data.json/uuid"},
		{fullInstance(), "/2010-01-01/meta-data/"},
		{fullInstance(), "/1.0/meta-data/placement/"},
		{fullInstance(), "/2007-01-19/meta-data/instance-type"},
		{fullInstance(), "/latest/meta-data/nothing"},
		{fullInstance(), "/latest/meta-data/hostname/more"},
		{fullInstance(), "/latest/meta-data/public-keys/0/_name"},
		{fullInstance(), "/latest/meta-data/security-groups/default"},
	} {
		if c, err := Lookup(tc.inst, tc.path); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s (%s): %q, %v; want ErrNotFound", tc.path, tc.inst.Name, c.Body, err)
		}
	}
}

// TestLookupSameAnswer: Nova's path handling: a trailing slash, an
// explicit /ec2 prefix, "latest" and dot segments change nothing.
func TestLookupSameAnswer(t *testing.T) {
	inst := fullInstance()
	for _, pair := range [][2]string{
		{"/latest/meta-data/", "/latest/meta-data"},
		{"/latest/meta-data/", "/ec2/latest/meta-data/"},
		{"/latest/meta-data/hostname", "/2009-04-04/meta-data/hostname/"},
		{"/openstack/latest/meta_data.json", "/openstack/2018-08-27/meta_data.json"},
		{"/openstack/latest", "/openstack/latest/"},
		{"/openstack", "/openstack/"},
		{"/latest/user-data", "/latest/meta-data/../user-data"},
		{"/", ""},
		{"/", "/ec2"},
	} {
		a, errA := Lookup(inst, pair[0])
		b, errB := Lookup(inst, pair[1])
		if errA != nil || errB != nil || !bytes.Equal(a.Body, b.Body) || a.Type != b.Type {
			t.Errorf("%s and %s differ: %q (%v) vs %q (%v)", pair[0], pair[1], a.Body, errA, b.Body, errB)
		}
	}
}

func TestHostname(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"web01", "web01"},
		{"Web Server_1.example", "web-server-1-example"},
		{"  --hello--  ", "hello"},
		{"a+b!c", "abc"},
		{"a--b", "a--b"},
		{"Ünïcödé ☃ box", "ncd--box"},
		{"☃☃", "Server-" + fullUUID},
		{"", "Server-" + fullUUID},
		{strings.Repeat("x", 70), strings.Repeat("x", 63)},
		{strings.Repeat("ab ", 21) + "tail", strings.Repeat("ab-", 20) + "ab"},
	} {
		if got := Hostname(tc.name, "Server-"+fullUUID); got != tc.want {
			t.Errorf("Hostname(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if got := ServerHostname(tc.name, fullUUID); got != tc.want {
			t.Errorf("ServerHostname(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}
