package testkit

import (
	"os"
	"testing"
)

// SharedDir makes a directory under os.TempDir with mode perm, removed at
// cleanup. It is for files that another user must reach (QEMU running as
// libvirt-qemu, lab hosts in their own namespaces): t.TempDir's parents
// are 0700, so nothing below them can be shared.
func SharedDir(t testing.TB, prefix string, perm os.FileMode) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, perm); err != nil {
		t.Fatal(err)
	}
	return dir
}
