package fsm_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

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
		// Owners and quotas: partial sets, nulls, zeros, odd numbers.
		"\x17{\"project_id\":\"p\",\"quota_set\":{\"cores\":-1,\"ram\":0}}",
		"\x17{\"project_id\":\"p\",\"quota_set\":{\"instances\":null,\"key_pairs\":9007199254740993}}",
		"\x17{\"project_id\":\"\",\"quota_set\":null}",
		"\x0d{\"project_id\":\"p\",\"user_id\":\"\",\"instances\":[{\"id\":\"a\"}]}",
		"\x09{\"image\":{\"id\":\"i\",\"project_id\":\"p\",\"visibility\":\"\"}}",
		// Identity: optional pointers, null and empty values, key bytes.
		"\x02{\"cluster_id\":\"c\",\"identity\":null}",
		"\x02{\"cluster_id\":\"c\",\"identity\":{}}",
		"\x19{\"id\":\"p\",\"name\":null,\"description\":\"\",\"enabled\":false}",
		"\x1c{\"id\":\"u\",\"default_project_id\":\"\",\"password_hash\":null,\"time\":\"2026-03-01T12:00:00+01:00\"}",
		"\x20{\"project_id\":\"p\",\"user_id\":\"u\",\"role_id\":\"r\"}",
		"\x22{\"key\":{\"id\":\"k\",\"public_key\":\"\",\"retired\":\"0001-01-01T00:00:00Z\"}}",
		"\x22{\"key\":{\"id\":\"k\",\"public_key\":null}}",
		"\x24{\"audit_id\":\"a\",\"expires_at\":\"2026-03-01T12:00:00-07:00\"}",
		// Cluster security: zones, empty and null values, odd numbers.
		"\x25{\"id\":\"t\",\"secret_hash\":\"\",\"created_at\":\"2026-03-01T12:00:00+01:00\",\"max_uses\":9007199254740993}",
		"\x25{\"id\":\"t\",\"created_by\":\"\",\"max_uses\":-0}",
		"\x26{\"id\":\"t\",\"node\":\"\",\"now\":\"2026-03-01T12:00:00-00:30\"}",
		"\x28{\"serial\":\"0A\",\"node\":\"h1\",\"not_after\":\"2026-03-31T12:00:00+05:30\",\"now\":\"0001-01-01T00:00:00Z\"}",
		"\x2a{\"id\":\"00112233445566aa\",\"sealed\":\"\"}",
		"\x2a{\"id\":\"00112233445566aa\",\"sealed\":null}",
		"\x2c{\"id\":null}",
		// Networking: pools, ports as pointers (0, null, huge), empty lists.
		"\x2d{\"id\":\"n\",\"cidr\":\"10.66.0.0/24\",\"external\":true,\"allocation_pools\":[],\"time\":\"2026-03-01T12:00:00+01:00\"}",
		"\x2d{\"id\":\"n\",\"allocation_pools\":[{\"start\":\"\",\"end\":null}]}",
		"\x2f{\"id\":\"f\",\"network_id\":\"n\",\"ip\":\"\"}",
		"\x31{\"floating_ip_id\":\"f\",\"instance_id\":\"a\",\"cross_project\":false}",
		"\x33{\"group\":{\"id\":\"g\",\"rules\":null}}",
		"\x33{\"group\":{\"id\":\"g\",\"rules\":[{\"id\":\"r\",\"port_range_min\":0,\"port_range_max\":null}]}}",
		"\x35{\"rule\":{\"id\":\"r\",\"port_range_min\":9007199254740993,\"created\":\"2026-03-01T12:00:00-07:00\"}}",
		"\x35{\"rule\":{\"id\":\"r\",\"port_range_min\":-0}}",
		"\x0d{\"instances\":[{\"id\":\"a\",\"security_groups\":[]}]}",
		"\x37{\"instance_id\":\"a\",\"group_id\":\"\",\"time\":\"0001-01-01T00:00:00Z\"}",
		// Keypairs and boot data: nulls, empty values, zones.
		"\x39{\"keypair\":{\"name\":\"k\",\"user_id\":null,\"created\":\"2026-03-01T12:00:00+01:00\"}}",
		"\x39{\"keypair\":null}",
		"\x3a{\"user_id\":\"u\",\"name\":\"\"}",
		"\x0d{\"instances\":[{\"id\":\"a\",\"key_name\":\"\",\"user_data\":null,\"config_drive\":false}]}",
		// OpenStack's updates: optional pointers, empty and null maps and lists, zones.
		"\x3b{\"id\":\"a\",\"name\":null,\"description\":\"\",\"access_ip_v4\":\"\",\"time\":\"2026-03-01T12:00:00+01:00\"}",
		"\x3c{\"id\":\"a\",\"set\":{},\"delete\":[],\"replace\":false}",
		"\x3c{\"id\":\"a\",\"set\":null,\"delete\":null,\"admin\":true}",
		"\x3d{\"id\":\"a\",\"unlock\":false,\"reason\":\"\",\"time\":\"2026-03-01T12:00:00-07:00\"}",
		"\x3e{\"id\":\"f\",\"description\":null}",
		"\x3f{\"id\":\"f\",\"extra_specs\":{}}",
		"\x41{\"id\":\"f\",\"project_id\":\"\"}",
		"\x43{\"id\":\"i\",\"changes\":[{\"op\":\"add\",\"field\":\"tags\",\"tags\":[]}],\"time\":\"2026-03-01T12:00:00+05:30\"}",
		"\x43{\"id\":\"i\",\"changes\":[{\"op\":\"replace\",\"field\":\"min_ram\",\"number\":-0,\"flag\":false,\"tags\":null}]}",
		"\x43{\"id\":\"i\",\"changes\":null}",
		"\x11{\"id\":\"i\",\"node\":\"h1\",\"md5\":\"\"}",
		"\x44{\"id\":\"a\",\"image_id\":\"i\",\"name\":null,\"metadata\":{},\"replace_metadata\":true,\"time\":\"2026-03-01T12:00:00+01:00\"}",
		"\x45{\"id\":\"g\",\"project_id\":\"\",\"name\":null,\"description\":\"\",\"time\":\"2026-03-01T12:00:00-07:00\"}",
		"\x06{\"flavor\":{\"id\":\"f\",\"rxtx_factor\":1e-320,\"access\":[],\"extra_specs\":{},\"private\":false}}",
		"\x09{\"image\":{\"id\":\"i\",\"tags\":[],\"protected\":false,\"md5\":null}}",
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

// timesInUTC returns a deep copy of c with every time.Time in UTC, and every
// empty map or slice nil: JSON keeps neither the *time.Location nor the
// difference between an empty and a missing collection (omitempty), and
// Apply treats both alike. Walking the value, not listing the commands,
// keeps a new command or field covered.
func timesInUTC(c fsm.Command) fsm.Command {
	return normalized(reflect.ValueOf(c)).Interface().(fsm.Command)
}

var timeType = reflect.TypeFor[time.Time]()

func normalized(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(normalized(v.Elem()))
		return n
	case reflect.Struct:
		if v.Type() == timeType {
			return reflect.ValueOf(v.Interface().(time.Time).UTC())
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := range n.NumField() {
			if n.Field(i).CanSet() {
				n.Field(i).Set(normalized(v.Field(i)))
			}
		}
		return n
	case reflect.Slice, reflect.Map:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		if v.Kind() == reflect.Map {
			n := reflect.MakeMapWithSize(v.Type(), v.Len())
			for it := v.MapRange(); it.Next(); {
				n.SetMapIndex(it.Key(), normalized(it.Value()))
			}
			return n
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(normalized(v.Index(i)))
		}
		return n
	}
	return v
}
