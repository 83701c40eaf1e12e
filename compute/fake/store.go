package fake

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stateFile is the StateFile's content.
type stateFile struct {
	Domains []FakeDomain   `json:"domains"`
	Defines map[string]int `json:"defines"`
}

// load reads the state file, if there is one; a missing file is a host
// that has never run a domain.
func (d *Driver) load() error {
	if d.cfg.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(d.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fake: read state: %w", err)
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("fake: state file %s: %w", d.cfg.StateFile, err)
	}
	for _, dom := range s.Domains {
		d.domains[dom.ID] = &dom
	}
	for id, n := range s.Defines {
		d.defines[id] = n
	}
	return nil
}

// commit makes a change durable and announces it; when the state cannot be
// saved, undo puts the change back and the operation fails. Called with d.mu
// held.
func (d *Driver) commit(id string, undo func()) error {
	if err := d.save(); err != nil {
		undo()
		return err
	}
	d.emit(id)
	return nil
}

// save writes the state file atomically: a reader (or a crash) sees the old
// file or the new one, never half of one. Called with d.mu held.
func (d *Driver) save() error {
	path := d.cfg.StateFile
	if path == "" {
		return nil
	}
	s := stateFile{Defines: d.defines}
	for _, dom := range d.domains {
		s.Domains = append(s.Domains, *dom)
	}
	slices.SortFunc(s.Domains, func(a, b FakeDomain) int { return cmp.Compare(a.ID, b.ID) })
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("fake: save state: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("fake: save state: %w", err)
	}
	_, werr := tmp.Write(b)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fake: save state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("fake: save state: %w", err)
	}
	return nil
}
