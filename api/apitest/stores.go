package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sync"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// QCOW2Magic starts every qcow2 file: Images refuses qcow2 data without it.
const QCOW2Magic = "QFI\xfb"

// Images is an api.Images in memory: raw data of any kind, qcow2 data that
// starts with QCOW2Magic (the real store checks far more).
type Images struct {
	mu   sync.Mutex
	data map[string][]byte // by sha256
}

var _ api.Images = (*Images)(nil)

// NewImages is an empty store.
func NewImages() *Images { return &Images{data: map[string][]byte{}} }

func (s *Images) Put(_ context.Context, r io.Reader, diskFormat string, maxSize int64) (api.StoredImage, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return api.StoredImage{}, err
	}
	switch {
	case int64(len(b)) > maxSize:
		return api.StoredImage{}, fmt.Errorf("%w: over %d bytes", fsm.ErrInvalid, maxSize)
	case diskFormat == "qcow2" && !bytes.HasPrefix(b, []byte(QCOW2Magic)):
		return api.StoredImage{}, fmt.Errorf("%w: the data is not qcow2", fsm.ErrInvalid)
	case diskFormat != "qcow2" && diskFormat != "raw":
		return api.StoredImage{}, fmt.Errorf("%w: disk format %q", fsm.ErrInvalid, diskFormat)
	}
	sum := sha256.Sum256(b)
	st := api.StoredImage{Checksum: hex.EncodeToString(sum[:]), Size: int64(len(b)), Format: diskFormat}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[st.Checksum] = b
	return st, nil
}

func (s *Images) Has(checksum string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[checksum]
	return ok
}

// Open serves a ReadSeeker, so downloads answer Range requests.
func (s *Images) Open(checksum string) (io.ReadCloser, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.data[checksum]
	if !ok {
		return nil, 0, fmt.Errorf("image data %s: %w", checksum, fs.ErrNotExist)
	}
	return readSeekCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

type readSeekCloser struct{ *bytes.Reader }

func (readSeekCloser) Close() error { return nil }

// Consoles is an api.Consoles of canned logs, by server ID.
type Consoles struct {
	mu   sync.Mutex
	logs map[string]string
	nmis map[string]int
	// NMIErr, when set, is what InjectNMI answers (the driver's failure).
	NMIErr error
}

var _ api.Consoles = (*Consoles)(nil)

// NewConsoles is a driver with no console logs yet.
func NewConsoles() *Consoles { return &Consoles{logs: map[string]string{}, nmis: map[string]int{}} }

// InjectNMI counts the interrupts sent to server id.
func (c *Consoles) InjectNMI(_ context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.NMIErr != nil {
		return c.NMIErr
	}
	c.nmis[id]++
	return nil
}

// NMIs is how many interrupts server id has been sent.
func (c *Consoles) NMIs(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nmis[id]
}

// Set makes log the console log of server id.
func (c *Consoles) Set(id, log string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.logs[id] = log
}

// ConsoleLog answers the last lines of the log set for id.
func (c *Consoles) ConsoleLog(_ context.Context, id string, lines int) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	log, ok := c.logs[id]
	if !ok {
		return "", fmt.Errorf("no console log for %s", id)
	}
	all := bytes.SplitAfter([]byte(log), []byte("\n"))
	if n := len(all); n > 0 && len(all[n-1]) == 0 {
		all = all[:n-1]
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return string(bytes.Join(all, nil)), nil
}
