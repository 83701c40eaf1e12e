package nova_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
)

// Tempest's v2_55 and v2_61 flavor schemas.
var (
	flavor255Shape = func() shape {
		s := shape{"description": "string|null"}
		for k, v := range flavorShape {
			s[k] = v
		}
		return s
	}()
	flavor261Shape = func() shape {
		s := shape{"?extra_specs": dict{"string"}}
		for k, v := range flavor255Shape {
			s[k] = v
		}
		return s
	}()
	flavorList255Shape = shape{"flavors": []any{shape{"name": "string", "links": links, "id": "string",
		"description": "string|null"}}, "?flavors_links": links}
)

func TestFlavorsMicroversions(t *testing.T) {
	e, _ := computeEnvUpTo(t, "2.100")

	// 2.55: the description everywhere, set at create and by PUT.
	checkShape(t, "list 2.55", getAt(t, e, "2.55", "/flavors"), flavorList255Shape)
	checkShape(t, "detail 2.55", getAt(t, e, "2.55", "/flavors/detail"), shape{"flavors": []any{flavor255Shape}, "?flavors_links": links})
	show := getAt(t, e, "2.55", "/flavors/1")
	checkShape(t, "show 2.55", show, shape{"flavor": flavor255Shape})
	if !strings.Contains(string(show), `"description":null`) || !strings.Contains(string(show), `"swap":""`) {
		t.Errorf("m1.tiny at 2.55: %s", show)
	}
	if raw := getAt(t, e, "2.54", "/flavors/1"); strings.Contains(string(raw), "description") {
		t.Errorf("description below 2.55: %s", raw)
	}
	status, raw := hostsAt(t, e, "2.55", "POST", "/flavors", `{"flavor":{"name":"described","ram":512,"vcpus":1,"disk":1,"id":"d1","description":"for tests"}}`)
	if status != 200 || !strings.Contains(string(raw), `"description":"for tests"`) {
		t.Fatalf("create with description: %d %s", status, raw)
	}
	checkShape(t, "create 2.55", raw, shape{"flavor": flavor255Shape})
	status, raw = hostsAt(t, e, "2.55", "PUT", "/flavors/d1", `{"flavor":{"description":"changed"}}`)
	if status != 200 || !strings.Contains(string(raw), `"description":"changed"`) {
		t.Errorf("update: %d %s", status, raw)
	}
	checkShape(t, "update 2.55", raw, shape{"flavor": flavor255Shape})
	if status, raw = hostsAt(t, e, "2.55", "PUT", "/flavors/d1", `{"flavor":{"description":null}}`); status != 200 || !strings.Contains(string(raw), `"description":null`) {
		t.Errorf("clear the description: %d %s", status, raw)
	}

	// 2.61: the extra specs in the flavor.
	if status, raw = hostsAt(t, e, "2.61", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:cpu_policy":"dedicated"}}`); status != 200 {
		t.Fatalf("extra specs: %d %s", status, raw)
	}
	raw = getAt(t, e, "2.61", "/flavors/d1")
	checkShape(t, "show 2.61", raw, shape{"flavor": flavor261Shape})
	if !strings.Contains(string(raw), `"extra_specs":{"hw:cpu_policy":"dedicated"}`) {
		t.Errorf("d1 at 2.61: %s", raw)
	}
	if raw := getAt(t, e, "2.61", "/flavors/1"); !strings.Contains(string(raw), `"extra_specs":{}`) {
		t.Errorf("m1.tiny at 2.61: %s", raw)
	}
	checkShape(t, "detail 2.61", getAt(t, e, "2.61", "/flavors/detail"), shape{"flavors": []any{flavor261Shape}, "?flavors_links": links})
	checkShape(t, "list 2.61", getAt(t, e, "2.61", "/flavors"), flavorList255Shape)
	if raw := getAt(t, e, "2.60", "/flavors/d1"); strings.Contains(string(raw), "extra_specs") {
		t.Errorf("extra specs below 2.61: %s", raw)
	}

	// 2.75: swap is 0, not "", and unknown query parameters are refused.
	if raw := getAt(t, e, "2.75", "/flavors/1"); !strings.Contains(string(raw), `"swap":0`) {
		t.Errorf("swap at 2.75: %s", raw)
	}
	if raw := getAt(t, e, "2.74", "/flavors?foo=1&limit=1"); len(flavorNames(t, raw)) != 1 {
		t.Errorf("2.74 ignores unknown parameters: %s", raw)
	}
	getAt(t, e, "2.75", "/flavors/detail?limit=1&sort_key=name&sort_dir=desc&minRam=0&minDisk=0&is_public=true&marker=1")

	// 2.86: the extra specs Nova knows are validated.
	for _, ok := range []string{`{"extra_specs":{"hw:numa_nodes":"2","hw:cpu_policy":"shared","hw:mem_page_size":"2MB"}}`,
		`{"extra_specs":{"trait:HW_CPU_X86_AVX2":"required","resources1:CUSTOM_GPU":"1","quota:disk_read_bytes_sec":"1000"}}`,
		`{"extra_specs":{"hw:numa_cpus.0":"0-3,^2","hw:numa_mem.0":"1024","group_policy":"isolate"}}`,
		`{"extra_specs":{"vendor:anything":"goes","plain":"too","hw_rng:allowed":"True"}}`} {
		if status, raw := hostsAt(t, e, "2.86", "POST", "/flavors/d1/os-extra_specs", ok); status != 200 {
			t.Errorf("valid %s: %d %s", ok, status, raw)
		}
	}
	if status, raw := hostsAt(t, e, "2.85", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:bogus":"1"}}`); status != 200 {
		t.Errorf("no validation below 2.86: %d %s", status, raw)
	}
	before := e.FSM.Index()
	checkRefusals(t, e, []refusal{
		{"2.54", "PUT", "/flavors/d1", `{"flavor":{"description":"x"}}`, 404, "The resource could not be found."},
		{"2.54", "POST", "/flavors", `{"flavor":{"name":"x","ram":1,"vcpus":1,"disk":1,"description":"x"}}`, 400,
			`Invalid input for field/attribute flavor. Value: {"description":"x","disk":1,"name":"x","ram":1,"vcpus":1}. Additional properties are not allowed ('description' was unexpected)`},
		{"2.55", "PUT", "/flavors/nope", `{"flavor":{"description":"x"}}`, 404, "Flavor nope could not be found."},
		{"2.55", "PUT", "/flavors/d1", `{"flavor":{}}`, 400, "Invalid input for field/attribute flavor. Value: {}. 'description' is a required property"},
		{"2.55", "PUT", "/flavors/d1", `{"flavor":{"description":"x","name":"y"}}`, 400,
			`Invalid input for field/attribute flavor. Value: {"description":"x","name":"y"}. Additional properties are not allowed ('name' was unexpected)`},
		{"2.55", "PUT", "/flavors/d1", `{"flavor":{"description":1}}`, 400, "Invalid input for field/attribute flavor/description. Value: 1. 1 is not of type 'string'"},
		{"2.75", "GET", "/flavors?foo=1", "", 400, "Additional properties are not allowed ('foo' was unexpected)"},
		{"2.75", "GET", "/flavors/detail?b=1&a=2", "", 400, "Additional properties are not allowed ('a', 'b' were unexpected)"},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:cpu_policy":"bogus"}}`, 400,
			"Validation failed; 'bogus' is not one of: dedicated, shared, mixed."},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:numa_nodes":"0"}}`, 400,
			"Validation failed; '0' is less than the min value of '1'."},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:numa_nodes":"two"}}`, 400,
			"Validation failed; 'two' is not a valid integer value."},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:boot_menu":"maybe"}}`, 400,
			"Validation failed; 'maybe' is not a valid boolean-like value."},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:cpu_realtime_mask":"x"}}`, 400,
			`Validation failed; 'x' is not of the format '(\^)?\d+((-\d+)?(,\^?\d+(-\d+)?)?)*'.`},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"hw:bogus":"1"}}`, 400,
			"Validation failed; extra spec 'hw:bogus' does not appear to be a valid extra spec."},
		{"2.86", "POST", "/flavors/d1/os-extra_specs", `{"extra_specs":{"trait:CUSTOM_X":"maybe"}}`, 400,
			"Validation failed; 'maybe' is not one of: required, forbidden."},
		{"2.86", "PUT", "/flavors/d1/os-extra_specs/hw:cpu_policy", `{"hw:cpu_policy":"bogus"}`, 400,
			"Validation failed; 'bogus' is not one of: dedicated, shared, mixed."},
		{"2.86", "POST", "/flavors/nope/os-extra_specs", `{"extra_specs":{"hw:bogus":"1"}}`, 400,
			"Validation failed; extra spec 'hw:bogus' does not appear to be a valid extra spec."},
	})
	if e.FSM.Index() != before {
		t.Errorf("refused requests changed the state: index %d → %d", before, e.FSM.Index())
	}
}

func TestFlavorsMicroversionsGophercloud(t *testing.T) {
	ctx := context.Background()
	e, _ := computeEnvUpTo(t, "2.100")
	admin := computeClient(t, e.AdminProvider(t))
	admin.Microversion = "2.61"
	disk := 1
	f, err := flavors.Create(ctx, admin, flavors.CreateOpts{Name: "g1", RAM: 256, VCPUs: 1, Disk: &disk, Description: "made by gophercloud"}).Extract()
	if err != nil || f.Description != "made by gophercloud" || f.ExtraSpecs == nil {
		t.Fatalf("create at 2.61: %v %+v", err, f)
	}
	if f, err = flavors.Update(ctx, admin, f.ID, flavors.UpdateOpts{Description: "changed"}).Extract(); err != nil || f.Description != "changed" {
		t.Fatalf("update: %v %+v", err, f)
	}
	admin.Microversion = "2.86"
	_, err = flavors.CreateExtraSpecs(ctx, admin, f.ID, flavors.ExtraSpecsOpts{"hw:cpu_policy": "sometimes"}).Extract()
	wantFault(t, "invalid extra spec", err, http.StatusBadRequest, "badRequest")
	if _, err = flavors.CreateExtraSpecs(ctx, admin, f.ID, flavors.ExtraSpecsOpts{"hw:cpu_policy": "dedicated"}).Extract(); err != nil {
		t.Fatal(err)
	}
	admin.Microversion = "2.75"
	got, err := flavors.Get(ctx, admin, f.ID).Extract()
	if err != nil || got.ExtraSpecs["hw:cpu_policy"] != "dedicated" || got.Swap != 0 || got.Description != "changed" {
		t.Errorf("get at 2.75: %v %+v", err, got)
	}
}
