package link

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

// StateFile is the name, in a node's data dir, of the file that records the
// floating IPs its Link put on an interface.
//
// A /32 on the uplink says nothing about who put it there: nodes that share
// a network namespace (a development cluster on one machine) share the
// uplink, and each must withdraw only its own floating IPs. The record is
// also what survives the agent: a restarted agent withdraws what its
// predecessor added, and the fence guard withdraws it all when the agent's
// lease runs out (WithdrawOwned). An entry is written before its address
// is added and removed after the address is withdrawn, so an address of
// this node is never on an interface without being recorded.
const StateFile = "floating-ips.json"

// owned is the record: each floating IP this node holds, and the interface
// it is on.
type owned map[netip.Addr]string

type ownedEntry struct {
	Addr netip.Addr `json:"addr"`
	Link string     `json:"link"`
}

type ownedFile struct {
	Floating []ownedEntry `json:"floating"`
}

// readOwned reads the record at path; a missing file records nothing.
func readOwned(path string) (owned, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return owned{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("floating IP record: %w", err)
	}
	var f ownedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("floating IP record %s: %w", path, err)
	}
	o := owned{}
	for _, e := range f.Floating {
		if e.Addr.Is4() && e.Link != "" {
			o[e.Addr] = e.Link
		}
	}
	return o, nil
}

// writeOwned replaces the record at path atomically (a temporary file,
// synced, renamed over it), so a crash leaves the old record or the new.
func writeOwned(path string, o owned) error {
	f := ownedFile{Floating: []ownedEntry{}}
	for _, a := range slices.SortedFunc(maps.Keys(o), netip.Addr.Compare) {
		f.Floating = append(f.Floating, ownedEntry{Addr: a, Link: o[a]})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("floating IP record: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	_, err = tmp.Write(append(b, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("floating IP record: %w", err)
	}
	return nil
}

// lockWait bounds the wait for the record's lock, which the agent and its
// fence guard (two processes) each hold while they read the record, change
// the kernel and write the record.
const lockWait = 2 * time.Second

// errLocked means the record stayed locked by another process.
var errLocked = errors.New("floating IP record: locked by another process")

// lockRecord takes l.mu and, with a state file, an exclusive flock on
// StateFile+".lock". If another process holds it past lockWait, it returns
// errLocked, unless force: then it goes on without it (the fence guard must
// not wait on a hung agent to withdraw). unlock releases what was taken.
func (l *Link) lockRecord(force bool) (unlock func(), err error) {
	l.mu.Lock()
	if l.stateFile == "" {
		return l.mu.Unlock, nil
	}
	f, err := os.OpenFile(l.stateFile+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if errors.Is(err, fs.ErrNotExist) {
		// No data dir, so no record and nobody to race: a guard whose
		// node's data dir was deleted has nothing to withdraw.
		return l.mu.Unlock, nil
	}
	if err != nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("floating IP record: %w", err)
	}
	deadline := time.Now().Add(l.lockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close(); l.mu.Unlock() }, nil // closing releases the flock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			if force {
				l.log.Warn("withdrawing floating IPs without the record's lock", "err", err)
				return l.mu.Unlock, nil
			}
			l.mu.Unlock()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, errLocked
			}
			return nil, fmt.Errorf("floating IP record: lock: %w", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadOwned is the record as it is now: the file's when there is one (the
// fence guard may have changed it), else what this Link remembers. Called
// under lockRecord.
func (l *Link) loadOwned() (owned, error) {
	if l.stateFile == "" {
		return l.owned, nil
	}
	o, err := readOwned(l.stateFile)
	if err != nil {
		return nil, err
	}
	l.owned = o
	return o, nil
}

// saveOwned records o. Called under lockRecord.
func (l *Link) saveOwned(o owned) error {
	if l.stateFile != "" {
		if err := writeOwned(l.stateFile, o); err != nil {
			return err
		}
	}
	l.owned = o
	return nil
}

// withdrawFloating removes every recorded floating IP that keep does not
// want, from whichever interface it was put on, and records what is left.
// An entry whose address or interface is gone already is simply forgotten.
func (l *Link) withdrawFloating(c *changes, force bool, keep func(ip netip.Addr, dev string) bool) {
	unlock, err := l.lockRecord(force)
	if err != nil {
		c.fail(err)
		return
	}
	defer unlock()
	o, err := l.loadOwned()
	if err != nil {
		c.fail(err)
		return
	}
	left := maps.Clone(o)
	for _, ip := range slices.SortedFunc(maps.Keys(o), netip.Addr.Compare) {
		dev := o[ip]
		if keep(ip, dev) {
			continue
		}
		l.stopAnnouncingLocked(ip)
		on, err := holds(dev, ip)
		if err != nil {
			c.fail(err)
			continue
		}
		if on != nil {
			if err := netlink.AddrDel(on, hostAddr(ip)); err != nil {
				c.note("-floating "+ip.String()+" on "+dev, err)
				continue
			}
			c.note("-floating "+ip.String()+" on "+dev, nil)
		}
		delete(left, ip)
	}
	if len(left) != len(o) {
		c.fail(l.saveOwned(left))
	}
}

// holds returns the interface dev when it holds ip as a /32, else nil; an
// interface that is gone holds nothing.
func holds(dev string, ip netip.Addr) (netlink.Link, error) {
	ln, err := netlink.LinkByName(dev)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("interface %s: %w", dev, err)
	}
	as, err := dump("addresses", func() ([]netlink.Addr, error) { return netlink.AddrList(ln, netlink.FAMILY_V4) })
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		if p := prefixOf(a.IPNet); p.Bits() == 32 && p.Addr() == ip {
			return ln, nil
		}
	}
	return nil, nil
}

// WithdrawOwned removes every floating IP the record at stateFile names from
// its interface and empties the record, in the calling thread's network
// namespace: the fence guard's step once the agent's lease has run out, so
// a floating IP that fails over is not answered for here as well. It
// returns what it removed.
func WithdrawOwned(stateFile string) ([]string, error) {
	l := New(Config{StateFile: stateFile})
	defer l.Close()
	var c changes
	l.withdrawFloating(&c, true, func(netip.Addr, string) bool { return false })
	return c.result()
}
