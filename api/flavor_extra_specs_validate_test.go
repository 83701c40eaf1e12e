package api

import (
	"errors"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

func TestValidateExtraSpec(t *testing.T) {
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"hw:cpu_policy", "dedicated", true},
		{"hw:cpu_policy", "Dedicated", false},
		{"hw:numa_nodes", "1", true},
		{"hw:numa_nodes", "0", false},
		{"hw:redirected_usb_ports", "16", false},
		{"hw:boot_menu", "yes", true},
		{"hw:boot_menu", "", false},
		{"hw:numa_cpus.1", "0,1", true},
		{"hw:numa_cpus.x", "0,1", false}, // hw: is known, the key is not
		{"hw_rng:rate_bytes", "100", true},
		{"quota:cpu_shares", "abc", false},
		{"os:secure_boot", "required", true},
		{"pci_passthrough:alias", "a1:2", true},
		{"pci_passthrough:alias", "a1", false},
		{"aggregate_instance_extra_specs:ssd", "true", true},
		{"capabilities:cpu_info:features", "x", true},
		{"trait:HW_CPU_X86_AVX", "forbidden", true},
		{"traitgroup1:CUSTOM_X", "required", true},
		{"resources:VCPU", "2", true},
		{"resources:VCPU", "two", false},
		{"group_policy", "none", true},
		{"group_policy", "all", false},
		{"hide_hypervisor_id", "true", true},
		{"somevendor:key", "whatever", true}, // a namespace Nova does not know
		{"plain", "whatever", true},
	} {
		err := ValidateExtraSpec(c.name, c.value)
		if (err == nil) != c.ok || err != nil && !errors.Is(err, fsm.ErrInvalid) {
			t.Errorf("%s=%q: %v, want ok %v", c.name, c.value, err, c.ok)
		}
	}
}
