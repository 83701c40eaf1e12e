package libvirt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	golibvirt "github.com/digitalocean/go-libvirt"
	"github.com/google/uuid"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// maxConsoleRead bounds how much of a console log ConsoleLog reads: the tail.
const maxConsoleRead = 1 << 20

// domain is one of this node's domains as libvirt holds it now.
type domain struct {
	dom  golibvirt.Domain
	meta instanceMetadata
}

// hypervisor returns the connection for a Hypervisor method, or why this
// driver cannot run one: a driver built for Fingerprint alone has no node.
func (d *Driver) hypervisor(op string) (*golibvirt.Libvirt, error) {
	if d.cfg.Node == "" {
		return nil, fmt.Errorf("libvirt: %s needs Config.Node (this node's name); this driver was configured for Fingerprint only", op)
	}
	return d.client()
}

// clusterID is the cluster's ID, empty when unknown or not configured.
func (d *Driver) clusterID() string {
	if d.cfg.ClusterID == nil {
		return ""
	}
	return d.cfg.ClusterID()
}

// owns reports whether a domain's shoal metadata makes it this node's: the
// node matches and, when both are known, the cluster too.
func (d *Driver) owns(m instanceMetadata) bool {
	if m.Node != d.cfg.Node {
		return false
	}
	c := d.clusterID()
	return c == "" || m.Cluster == "" || m.Cluster == c
}

// metadata reads a domain's shoal element; ok is false when it has none
// (or one that does not parse).
func metadata(l *golibvirt.Libvirt, dom golibvirt.Domain) (m instanceMetadata, ok bool, err error) {
	doc, err := l.DomainGetMetadata(dom, int32(golibvirt.DomainMetadataElement),
		golibvirt.OptString{MetadataNamespace}, golibvirt.DomainAffectCurrent)
	switch {
	case hasCode(err, golibvirt.ErrNoDomainMetadata):
		return m, false, nil
	case err != nil:
		return m, false, err
	}
	m, err = parseMetadata(doc)
	if err != nil {
		return m, false, nil // an element shoal cannot read claims nothing
	}
	return m, true, nil
}

// lookup finds this node's domain for instance id: compute.ErrNotFound when
// libvirt has none, or when it is not shoal's or not this node's.
func (d *Driver) lookup(l *golibvirt.Libvirt, id string) (domain, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return domain{}, fmt.Errorf("%w: %q is not a UUID", compute.ErrNotFound, id)
	}
	dom, err := l.DomainLookupByUUID(golibvirt.UUID(u))
	if err != nil {
		return domain{}, mapError(id, err)
	}
	m, ok, err := metadata(l, dom)
	if err != nil {
		return domain{}, mapError(id, err)
	}
	if !ok || !d.owns(m) {
		return domain{}, fmt.Errorf("%w: %s (domain %s is not this node's)", compute.ErrNotFound, id, dom.Name)
	}
	d.remember(id)
	return domain{dom: dom, meta: m}, nil
}

// mapError turns libvirt's answers into compute's sentinels.
func mapError(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, compute.ErrNotFound) || errors.Is(err, compute.ErrInvalidState):
		return err // decided here already
	case hasCode(err, golibvirt.ErrNoDomain):
		return fmt.Errorf("%w: %s", compute.ErrNotFound, id)
	case hasCode(err, golibvirt.ErrOperationInvalid):
		return fmt.Errorf("%w: %s: %v", compute.ErrInvalidState, id, err)
	}
	return fmt.Errorf("libvirt: domain %s: %w", id, err)
}

// state is the domain's power state as shoal spells it.
func state(l *golibvirt.Libvirt, dom golibvirt.Domain) (fsm.PowerState, error) {
	st, reason, err := l.DomainGetState(dom, 0)
	if err != nil {
		return fsm.PowerNoState, err
	}
	return powerState(l, dom, golibvirt.DomainState(st), reason)
}

// powerState maps libvirt's states as Nova does; a shut off domain with a
// managed-save image is suspended, one that crashed (on_crash destroy) is
// crashed.
func powerState(l *golibvirt.Libvirt, dom golibvirt.Domain, st golibvirt.DomainState, reason int32) (fsm.PowerState, error) {
	switch st {
	case golibvirt.DomainRunning, golibvirt.DomainBlocked:
		return fsm.PowerRunning, nil
	case golibvirt.DomainPaused:
		return fsm.PowerPaused, nil
	case golibvirt.DomainShutdown:
		return fsm.PowerShutdown, nil
	case golibvirt.DomainCrashed:
		return fsm.PowerCrashed, nil
	case golibvirt.DomainPmsuspended:
		return fsm.PowerSuspended, nil
	case golibvirt.DomainShutoff:
		saved, err := l.DomainHasManagedSaveImage(dom, 0)
		switch {
		case err != nil:
			return fsm.PowerNoState, err
		case saved == 1:
			return fsm.PowerSuspended, nil
		case golibvirt.DomainShutoffReason(reason) == golibvirt.DomainShutoffCrashed:
			return fsm.PowerCrashed, nil
		}
		return fsm.PowerShutdown, nil
	}
	return fsm.PowerNoState, nil
}

// Inspect returns this node's domain of instance id.
func (d *Driver) Inspect(ctx context.Context, id string) (compute.Domain, error) {
	if err := ctx.Err(); err != nil {
		return compute.Domain{}, err
	}
	l, err := d.hypervisor("inspect")
	if err != nil {
		return compute.Domain{}, err
	}
	dm, err := d.lookup(l, id)
	if err != nil {
		return compute.Domain{}, err
	}
	p, err := state(l, dm.dom)
	if err != nil {
		return compute.Domain{}, mapError(id, err)
	}
	return compute.Domain{ID: id, Name: dm.meta.Name, PowerState: p}, nil
}

// List returns every domain whose shoal metadata names this node, ordered
// by ID. Domains that vanish while being listed are left out.
func (d *Driver) List(ctx context.Context) ([]compute.Domain, error) {
	l, err := d.hypervisor("list")
	if err != nil {
		return nil, err
	}
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		return nil, fmt.Errorf("libvirt: list domains: %w", err)
	}
	out := []compute.Domain{}
	for _, dom := range doms {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		m, ok, err := metadata(l, dom)
		switch {
		case hasCode(err, golibvirt.ErrNoDomain):
			continue
		case err != nil:
			return nil, fmt.Errorf("libvirt: metadata of domain %s: %w", dom.Name, err)
		case !ok || !d.owns(m):
			continue
		}
		p, err := state(l, dom)
		switch {
		case hasCode(err, golibvirt.ErrNoDomain):
			continue
		case err != nil:
			return nil, fmt.Errorf("libvirt: state of domain %s: %w", dom.Name, err)
		}
		id := uuid.UUID(dom.UUID).String()
		d.remember(id)
		out = append(out, compute.Domain{ID: id, Name: m.Name, PowerState: p})
	}
	slices.SortFunc(out, func(a, b compute.Domain) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// consolePath is where the serial console of instance id is logged.
func (d *Driver) consolePath(id string) string {
	return filepath.Join(d.cfg.ConsoleDir, id+".log")
}

// ConsoleLog returns the last lines of the serial console log (all when
// lines <= 0, within the last MiB); empty before the first boot.
func (d *Driver) ConsoleLog(ctx context.Context, id string, lines int) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	l, err := d.hypervisor("console-log")
	if err != nil {
		return "", err
	}
	if _, err := d.lookup(l, id); err != nil {
		return "", err
	}
	b, err := readTail(d.consolePath(id), maxConsoleRead)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("libvirt: console log of %s: %w", id, err)
	}
	return tailLines(string(b), lines), nil
}

// readTail reads at most limit bytes from the end of a file.
func readTail(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-limit, 0)
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, err
	}
	if off > 0 { // the first line is cut: drop it
		if i := strings.IndexByte(string(b), '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return b, nil
}

// tailLines keeps the last n lines of s (all when n <= 0).
func tailLines(s string, n int) string {
	if n <= 0 || s == "" {
		return s
	}
	body := strings.TrimSuffix(s, "\n")
	all := strings.Split(body, "\n")
	if len(all) <= n {
		return s
	}
	out := strings.Join(all[len(all)-n:], "\n")
	if strings.HasSuffix(s, "\n") {
		out += "\n"
	}
	return out
}
