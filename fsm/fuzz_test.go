package fsm_test

import (
	"bytes"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// FuzzDecode checks that Decode never panics and that whatever it accepts has a
// canonical encoding: Encode(Decode(b)) decodes again to the same command and
// encodes to the same bytes. Replicas only ever see Encode's output, but a
// snapshot or log written by another version must not crash or drift either.
func FuzzDecode(f *testing.F) {
	for _, c := range everyCommand(f) {
		f.Add(encode(f, c))
	}
	for _, tc := range undecodable {
		f.Add(tc.data)
	}
	for _, s := range []string{
		"\x03{\"name\":\"h1\",\"time\":\"2026-03-01T12:00:00+01:00\"}", // fixed zone
		"\x03{\"name\":\"h1\",\"time\":\"2026-03-01T12:00:00+00:00\"}", // offset 0: may decode as Local
		"\x05{\"name\":\"h1\",\"time\":\"2026-03-01T12:00:00.500000000Z\"}",
		"\x02{\"cluster_id\":\"c\",\"flavors\":[]}",
		"\x02{\"cluster_id\":\"c\",\"flavors\":null}",
		"\x06null",
		"\x01{\"entries\":[]}",
		"\x04{\"NAME\":\"h1\",\"name\":\"h2\"}",
		"\x04{\"name\":\"\xff\"}",
		// The compute commands: zones, empty collections, nulls, odd numbers.
		"\x08{\"name\":\"h1\",\"vcpus\":-1,\"time\":\"2026-03-01T12:00:00-07:00\"}",
		"\x09{\"image\":{\"id\":\"i\",\"properties\":{},\"created\":\"2026-03-01T12:00:00+02:00\"}}",
		"\x09{\"image\":{\"id\":\"i\",\"properties\":null,\"size\":9007199254740993}}",
		"\x0a{\"id\":\"img\"}",
		"\x0b{\"group\":{\"id\":\"g\",\"members\":[],\"created\":\"2026-03-01T12:00:00+01:00\"}}",
		"\x0b{\"group\":{\"id\":\"g\",\"members\":null}}",
		"\x0c{\"id\":\"g\"}",
		"\x0d{\"instances\":[{\"id\":\"a\",\"metadata\":{}}],\"time\":\"2026-03-01T12:00:00+05:30\"}",
		"\x0d{\"instances\":[],\"request_id\":\"r\"}",
		"\x0d{\"instances\":null}",
		"\x0e{\"id\":\"a\",\"action\":\"reboot\",\"hard\":true,\"time\":\"2026-03-01T12:00:00.000000001Z\"}",
		"\x0f{\"ratios\":{\"cpu\":1e-320,\"ram\":-0,\"disk\":1.0000000000000002},\"max_attempts\":3,\"failures\":[]}",
		"\x0f{\"ratios\":{\"cpu\":16},\"placements\":null,\"failures\":null}",
		"\x10{\"host\":\"h1\",\"reports\":[{\"id\":\"a\",\"power_state\":7,\"done\":\"spawning\"}],\"time\":\"2026-03-01T12:00:00+00:00\"}",
		"\x10{\"host\":\"h1\",\"reports\":[{\"power_state\":-4}]}",
		"\x09{\"image\":{\"id\":\"i\",\"locations\":[\"h2\",\"h1\",\"h1\"]}}",
		"\x09{\"image\":{\"id\":\"i\",\"locations\":[]}}",
		"\x11{\"id\":\"i\",\"node\":\"h1\",\"size\":0,\"checksum\":\"\",\"time\":\"2026-03-01T12:00:00+01:00\"}",
		"\x11{\"id\":\"i\",\"node\":\"h1\",\"size\":9007199254740993,\"disk_format\":\"\"}",
		"\x12{\"id\":\"i\",\"node\":\"\",\"time\":\"2026-03-01T12:00:00-00:30\"}",
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		c1, err := fsm.Decode(data)
		if err != nil {
			return
		}
		if c1 == nil || c1.Type() != fsm.Type(data[0]) {
			t.Fatalf("Decode(%q) = %#v for type byte %d", data, c1, data[0])
		}
		enc1, err := fsm.Encode(c1)
		if err != nil {
			t.Fatalf("Encode(Decode(%q)): %v", data, err)
		}
		c2, err := fsm.Decode(enc1)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) = %v\nencoded %q", data, err, enc1)
		}
		enc2, err := fsm.Encode(c2)
		if err != nil {
			t.Fatalf("Encode of the re-decoded command: %v", err)
		}
		if !bytes.Equal(enc1, enc2) {
			t.Fatalf("encoding is not canonical for %q:\nfirst  %q\nsecond %q", data, enc1, enc2)
		}
		// Structs are compared with times in UTC: JSON keeps the instant and the
		// offset but not the *time.Location (Local for an offset that matches it).
		if n1, n2 := timesInUTC(c1), timesInUTC(c2); !reflect.DeepEqual(n1, n2) {
			t.Fatalf("round trip changed the command for %q:\nfirst  %#v\nsecond %#v", data, n1, n2)
		}
	})
}

// timesInUTC returns a copy of c with every time.Time in UTC, and every
// collection that the encoding omits when empty (omitempty) nil: JSON keeps
// neither the *time.Location nor the difference between an empty and a
// missing map, and Apply treats both alike.
func timesInUTC(c fsm.Command) fsm.Command {
	switch c := c.(type) {
	case *fsm.Bootstrap:
		n := *c
		n.Time = n.Time.UTC()
		n.Flavors = slices.Clone(c.Flavors)
		for i := range n.Flavors {
			n.Flavors[i].Created = n.Flavors[i].Created.UTC()
		}
		return &n
	case *fsm.RegisterHost:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.SetHostEnabled:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.CreateFlavor:
		n := *c
		n.Flavor.Created = n.Flavor.Created.UTC()
		return &n
	case *fsm.UpdateHostInventory:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.CreateImage:
		n := *c
		n.Image.Created, n.Image.Updated = n.Image.Created.UTC(), n.Image.Updated.UTC()
		if len(n.Image.Properties) == 0 {
			n.Image.Properties = nil
		}
		return &n
	case *fsm.CreateServerGroup:
		n := *c
		n.Group.Created = n.Group.Created.UTC()
		return &n
	case *fsm.CreateInstances:
		n := *c
		n.Time = n.Time.UTC()
		n.Instances = slices.Clone(c.Instances)
		for i := range n.Instances {
			if len(n.Instances[i].Metadata) == 0 {
				n.Instances[i].Metadata = nil
			}
		}
		return &n
	case *fsm.InstanceAction:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.Plan:
		n := *c
		n.Time = n.Time.UTC()
		if len(n.Failures) == 0 {
			n.Failures = nil
		}
		return &n
	case *fsm.ReportInstances:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.ImageUploaded:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	case *fsm.RemoveImageLocation:
		n := *c
		n.Time = n.Time.UTC()
		return &n
	}
	return c
}
