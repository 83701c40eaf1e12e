package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
	"github.com/google/uuid"
	"libvirt.org/go/libvirtxml"
)

// errPoweredOff: the host has no host.env, so no libvirtd and no QEMU.
var errPoweredOff = errors.New("powered off")

// hostEnv reads the fields of a host.env; errPoweredOff when there is none.
func hostEnv(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, errPoweredOff
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	if env["SHLAB_SOCKET"] == "" || env["SHLAB_INIT_PID"] == "" {
		// power-on writes the file in one go; a partial read is a race
		return nil, fmt.Errorf("%s: incomplete", path)
	}
	return env, sc.Err()
}

// libvirtConn is a connection to one boot of a host's libvirtd.
type libvirtConn struct {
	boot string // SHLAB_INIT_PID: a new one on every power-on
	l    *golibvirt.Libvirt

	mu   sync.Mutex
	macs map[string]string // uuid/domain id → MAC ("" while being read), for one run of a domain
}

func dialHost(env map[string]string) (*libvirtConn, error) {
	l := golibvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(env["SHLAB_SOCKET"]), dialers.WithLocalTimeout(2*time.Second)))
	if err := l.ConnectToURI(golibvirt.QEMUSystem); err != nil {
		return nil, err
	}
	return &libvirtConn{boot: env["SHLAB_INIT_PID"], l: l, macs: map[string]string{}}, nil
}

func (c *libvirtConn) close() {
	go func() { _ = c.l.Disconnect() }() // may block on a dead daemon; nobody waits
}

// Domain is one shoal domain a host's libvirtd runs.
type Domain struct {
	ID    string // the instance ID (the domain's UUID)
	State string // running (any active state but paused) or paused
	MAC   string // of its first interface
	Run   int32  // libvirt's domain ID: a new one each time the domain starts
}

// active lists the shoal domains with a QEMU process (running, paused, …),
// each with its state: the checker counts only running ones as running the
// instance (a live migration's incoming domain is paused).
func (c *libvirtConn) active() (map[string]Domain, error) {
	doms, _, err := c.l.ConnectListAllDomains(1, golibvirt.ConnectListDomainsActive)
	if err != nil {
		return nil, err
	}
	// Two list calls and no call per domain: rounds stay short while
	// libvirtd is busy starting and stopping domains.
	paused, _, err := c.l.ConnectListAllDomains(1, golibvirt.ConnectListDomainsPaused)
	if err != nil {
		return nil, err
	}
	isPaused := map[golibvirt.UUID]bool{}
	for _, d := range paused {
		isPaused[d.UUID] = true
	}
	out := map[string]Domain{}
	seen := map[string]bool{}
	for _, d := range doms {
		if !strings.HasPrefix(d.Name, "shoal-") {
			continue
		}
		id := uuid.UUID(d.UUID).String()
		state := "running"
		if isPaused[d.UUID] {
			state = "paused"
		}
		key := fmt.Sprintf("%s/%d", id, d.ID)
		seen[key] = true
		out[id] = Domain{ID: id, State: state, MAC: c.mac(key, d), Run: d.ID}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.macs {
		if !seen[key] {
			delete(c.macs, key)
		}
	}
	return out, nil
}

// mac returns the MAC of a domain's run, "" until known. Reading the XML
// of a domain that is starting waits for libvirtd (a second or more), so it
// is read in the background: the round goes on and a later one has the MAC.
func (c *libvirtConn) mac(key string, d golibvirt.Domain) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	mac, ok := c.macs[key]
	if !ok {
		c.macs[key] = ""
		go func() {
			m := firstMAC(c.l, d)
			c.mu.Lock()
			defer c.mu.Unlock()
			if _, ok := c.macs[key]; ok {
				c.macs[key] = m
			}
		}()
	}
	return mac
}

// defined lists the IDs of every shoal domain the libvirtd knows, running
// or not.
func (c *libvirtConn) defined() ([]string, error) {
	doms, _, err := c.l.ConnectListAllDomains(1, golibvirt.ConnectListDomainsActive|golibvirt.ConnectListDomainsInactive)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range doms {
		if strings.HasPrefix(d.Name, "shoal-") {
			out = append(out, uuid.UUID(d.UUID).String())
		}
	}
	return out, nil
}

func firstMAC(l *golibvirt.Libvirt, d golibvirt.Domain) string {
	desc, err := l.DomainGetXMLDesc(d, 0)
	if err != nil {
		return ""
	}
	var x libvirtxml.Domain
	if err := x.Unmarshal(desc); err != nil || x.Devices == nil {
		return ""
	}
	for _, nic := range x.Devices.Interfaces {
		if nic.MAC != nil {
			return strings.ToLower(nic.MAC.Address)
		}
	}
	return ""
}
