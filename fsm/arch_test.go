package fsm

import "testing"

func TestCanonicalArch(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"amd64", "x86_64"},
		{"x86_64", "x86_64"},
		{"X86-64", "x86_64"},
		{"arm64", "aarch64"},
		{"aarch64", "aarch64"},
		{"386", "i686"},
		{"i686", "i686"},
		{"arm", "armv7l"},
		{"s390x", "s390x"},
		{" riscv64\n", "riscv64"},
	} {
		if got := CanonicalArch(tc.in); got != tc.want {
			t.Errorf("CanonicalArch(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
