package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// qcow2Image is a minimal qcow2 v3 image of n bytes; backing names a backing file.
func qcow2Image(n int, backing bool) []byte {
	h := make([]byte, n)
	copy(h, "QFI\xfb")
	binary.BigEndian.PutUint32(h[4:], 3)
	binary.BigEndian.PutUint32(h[20:], 16)
	binary.BigEndian.PutUint32(h[100:], 112)
	if backing {
		binary.BigEndian.PutUint64(h[8:], 0x200)
		copy(h[0x200:], "/etc/hostname")
	}
	return h
}

func TestImageCreateUploads(t *testing.T) {
	_, h := newOneNode(t)
	data := qcow2Image(3<<20+512<<10, false)
	file := writeFile(t, "tiny.qcow2", data)

	out, errOut, err := runCLI(t, h, "image create tiny --file "+file+" -o json")
	if err != nil {
		t.Fatalf("image create --file: %v\n%s", err, errOut)
	}
	var created api.ImageResponse
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatalf("-o json printed %s: %v", out, err)
	}
	if img := created.Image; img.Status != "active" || img.Size != int64(len(data)) || len(img.Checksum) != 64 || strings.Join(img.Locations, ",") != "n1" {
		t.Errorf("created %+v", img)
	}
	// stderr is no terminal here: one plain final line.
	if want := "[##########] 100% 3.5 MiB/3.5 MiB\n"; errOut != want {
		t.Errorf("progress printed %q, want %q", errOut, want)
	}

	// Without --file the image is registered only: queued, no progress.
	out, errOut, err = runCLI(t, h, "image create later --disk-format raw")
	if err != nil || !strings.Contains(out, "status            queued\n") || errOut != "" {
		t.Fatalf("image create without --file: %v\n%s%s", err, out, errOut)
	}
	raw := writeFile(t, "later.raw", bytes.Repeat([]byte{7}, 4096))
	if out, _, err = runCLI(t, h, "image upload later --file "+raw); err != nil || !strings.Contains(out, "status            active\n") {
		t.Fatalf("image upload: %v\n%s", err, out)
	}

	// Save: to a file and to stdout.
	saved := filepath.Join(t.TempDir(), "saved.qcow2")
	if _, _, err := runCLI(t, h, "image save tiny --file "+saved); err != nil {
		t.Fatalf("image save: %v", err)
	}
	if got, err := os.ReadFile(saved); err != nil || !bytes.Equal(got, data) {
		t.Errorf("saved file differs: %v", err)
	}
	if out, _, err := runCLI(t, h, "image save later --file -"); err != nil || out != strings.Repeat("\x07", 4096) {
		t.Errorf("image save to stdout: %v, %d bytes", err, len(out))
	}
	if entries, _ := os.ReadDir(filepath.Dir(saved)); len(entries) != 1 {
		t.Errorf("save left %d files behind", len(entries))
	}
}

func TestImageCreateRefused(t *testing.T) {
	_, h := newOneNode(t)
	evil := writeFile(t, "evil.qcow2", qcow2Image(4096, true))
	out, errOut, err := runCLI(t, h, "image create evil --file "+evil)
	if !errors.Is(err, fsm.ErrInvalid) || !strings.Contains(err.Error(), "backing file") ||
		!strings.Contains(err.Error(), "was deleted") || out != "" || errOut != "" {
		t.Fatalf("backing-file upload: %v\nstdout %q\nstderr %q", err, out, errOut)
	}
	// Raw data declared qcow2 (the default) is refused too.
	raw := writeFile(t, "disk.img", bytes.Repeat([]byte("data"), 1024))
	if _, _, err := runCLI(t, h, "image create disk --file "+raw); err == nil || !strings.Contains(err.Error(), "not a qcow2 image") {
		t.Errorf("raw data declared qcow2: %v", err)
	}
	// A missing file registers nothing.
	if _, _, err := runCLI(t, h, "image create ghost --file /nonexistent/ghost.qcow2"); err == nil {
		t.Error("missing file accepted")
	}
	if out, _, err := runCLI(t, h, "image list"); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("images left behind: %v\n%s", err, out)
	}
}

// On a terminal the bar is redrawn in place, at most ten times a second.
func TestProgressBarOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	bar := &progressBar{w: &buf, total: 20 << 20, tty: true, now: func() time.Time { return now }}
	for _, step := range []struct {
		done  int64
		after time.Duration
	}{{1 << 20, time.Second}, {2 << 20, 10 * time.Millisecond}, {10 << 20, time.Second}, {20 << 20, 0}} {
		now = now.Add(step.after)
		bar.update(step.done)
	}
	bar.finish(true)
	want := "\r[..........]   5% 1.0 MiB/20.0 MiB" +
		"\r[#####.....]  50% 10.0 MiB/20.0 MiB" +
		"\r[##########] 100% 20.0 MiB/20.0 MiB\n"
	if got := buf.String(); got != want {
		t.Errorf("drew %q\nwant %q", got, want)
	}

	buf.Reset()
	bar = &progressBar{w: &buf, total: 100, tty: false, now: time.Now}
	bar.update(50)
	bar.finish(false)
	if buf.Len() != 0 {
		t.Errorf("a failed upload off a terminal printed %q", buf.String())
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 12_897_485: "12.3 MiB", 5 << 30: "5.0 GiB", 3 << 40: "3.0 TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
