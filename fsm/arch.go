package fsm

import "strings"

// CanonicalArch maps an architecture name as Go, the kernel or libvirt spell it
// to the name Nova uses, so that image properties and host inventory compare
// equal. Unknown names are returned lower-cased.
func CanonicalArch(arch string) string {
	a := strings.ToLower(strings.TrimSpace(arch))
	switch a {
	case "amd64", "x86-64", "x64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386", "i386", "i486", "i586", "x86":
		return "i686"
	case "arm":
		return "armv7l"
	}
	return a
}
