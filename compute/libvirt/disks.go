package libvirt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/compute"
)

const gib = 1 << 30

// poolName is this node's storage pool of instance disks: per node, so
// nodes sharing one libvirtd keep their disks apart.
// poolName names the node's pool after its instances directory too, so two
// data directories of one node name (a test, a demo) never share a pool.
func (d *Driver) poolName() string {
	return domainPrefix + d.cfg.Node + "-" + shortHash(d.cfg.InstancesDir)
}

// volumeName is the disk volume of instance id in the pool.
func volumeName(id string) string { return id + ".qcow2" }

// ensurePool returns this node's dir pool, defined, built, started and
// autostarted; a pool of that name that exists already is adopted as it is.
func (d *Driver) ensurePool(l *golibvirt.Libvirt) (golibvirt.StoragePool, error) {
	d.setupMu.Lock()
	defer d.setupMu.Unlock()
	name := d.poolName()
	if err := d.searchable(d.cfg.InstancesDir); err != nil {
		return golibvirt.StoragePool{}, err
	}
	pool, err := l.StoragePoolLookupByName(name)
	if hasCode(err, golibvirt.ErrNoStoragePool) {
		doc, merr := poolFor(name, d.cfg.InstancesDir).Marshal()
		if merr != nil {
			return pool, merr
		}
		if pool, err = l.StoragePoolDefineXML(doc, 0); err != nil {
			return pool, fmt.Errorf("libvirt: define storage pool %s: %w", name, err)
		}
		// Building a dir pool only creates the directory; it exists: fine.
		if err := l.StoragePoolBuild(pool, 0); err != nil && !hasCode(err, golibvirt.ErrStoragePoolBuilt) {
			d.log.Debug("storage pool build", "pool", name, "err", err)
		}
		d.log.Info("storage pool defined", "pool", name, "dir", d.cfg.InstancesDir)
	} else if err != nil {
		return pool, fmt.Errorf("libvirt: storage pool %s: %w", name, err)
	}
	active, err := l.StoragePoolIsActive(pool)
	if err != nil {
		return pool, fmt.Errorf("libvirt: storage pool %s: %w", name, err)
	}
	if active == 0 {
		if err := l.StoragePoolCreate(pool, golibvirt.StoragePoolCreateWithBuild); err != nil {
			return pool, fmt.Errorf("libvirt: start storage pool %s: %w", name, err)
		}
	}
	if err := l.StoragePoolSetAutostart(pool, 1); err != nil {
		return pool, fmt.Errorf("libvirt: autostart storage pool %s: %w", name, err)
	}
	return pool, nil
}

// ensureVolume returns the path of instance id's disk, creating it as a
// qcow2 overlay on the cached base image when it does not exist yet.
func (d *Driver) ensureVolume(ctx context.Context, l *golibvirt.Libvirt, spec compute.InstanceSpec) (string, error) {
	pool, err := d.ensurePool(l)
	if err != nil {
		return "", err
	}
	name := volumeName(spec.ID)
	if vol, err := l.StorageVolLookupByName(pool, name); err == nil {
		return l.StorageVolGetPath(vol)
	} else if !hasCode(err, golibvirt.ErrNoStorageVol) {
		return "", fmt.Errorf("libvirt: volume %s: %w", name, err)
	}
	base, format, err := d.cfg.Images.Path(ctx, spec.ImageID)
	if err != nil {
		return "", fmt.Errorf("libvirt: base image %s: %w", spec.ImageID, err)
	}
	if base, err = filepath.Abs(base); err != nil {
		return "", err
	}
	if isWithin(base, d.cfg.DataDir) { // the image cache, typically DataDir/images
		if err := d.searchable(filepath.Dir(base)); err != nil {
			return "", err
		}
	}
	size, err := virtualSize(base, format)
	if err != nil {
		return "", err
	}
	capacity := max(uint64(spec.DiskGiB)*gib, size)
	doc, err := volumeFor(name, capacity, base, format).Marshal()
	if err != nil {
		return "", err
	}
	vol, err := l.StorageVolCreateXML(pool, doc, 0)
	if err != nil {
		// Created meanwhile, or a file libvirt did not know of: look again.
		_ = l.StoragePoolRefresh(pool, 0)
		if v, lerr := l.StorageVolLookupByName(pool, name); lerr == nil {
			return l.StorageVolGetPath(v)
		}
		return "", fmt.Errorf("libvirt: create volume %s on %s: %w", name, base, err)
	}
	return l.StorageVolGetPath(vol)
}

// deleteVolume removes instance id's disk; missing is fine.
func (d *Driver) deleteVolume(l *golibvirt.Libvirt, id string) error {
	pool, err := l.StoragePoolLookupByName(d.poolName())
	if hasCode(err, golibvirt.ErrNoStoragePool) {
		return nil // no pool, no disks
	} else if err != nil {
		return fmt.Errorf("libvirt: storage pool %s: %w", d.poolName(), err)
	}
	vol, err := l.StorageVolLookupByName(pool, volumeName(id))
	if hasCode(err, golibvirt.ErrNoStorageVol) {
		return nil
	} else if err != nil {
		return fmt.Errorf("libvirt: volume of %s: %w", id, err)
	}
	if err := l.StorageVolDelete(vol, 0); err != nil && !hasCode(err, golibvirt.ErrNoStorageVol) {
		return fmt.Errorf("libvirt: delete volume of %s: %w", id, err)
	}
	return nil
}

// virtualSize is the size the guest sees of an image: the qcow2 header's
// size field, or a raw file's length. Read here rather than with qemu-img.
func virtualSize(path, format string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("libvirt: base image: %w", err)
	}
	defer f.Close()
	switch format {
	case "raw":
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		return uint64(st.Size()), nil
	case "qcow2":
		// magic "QFI\xfb" (4), version (4), backing file offset (8) and
		// size (4), cluster bits (4), then the virtual size (8), big endian.
		var hdr [32]byte
		if _, err := io.ReadFull(f, hdr[:]); err != nil {
			return 0, fmt.Errorf("libvirt: base image %s: qcow2 header: %w", path, err)
		}
		if string(hdr[:4]) != "QFI\xfb" { // the cache checked its checksum: it stays so
			return 0, compute.Permanent(fmt.Errorf("libvirt: base image %s is not qcow2", path))
		}
		return binary.BigEndian.Uint64(hdr[24:32]), nil
	}
	return 0, compute.Permanent(fmt.Errorf("libvirt: base image %s: unsupported disk format %q (qcow2 or raw)", path, format))
}

// searchable creates dir if needed and makes it and its parents up to the
// data dir searchable by others: QEMU runs as its own user (libvirt-qemu)
// and must reach the disks and base images, while the agent creates its
// data dir 0700. Search only, never read.
func (d *Driver) searchable(dir string) error {
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return fmt.Errorf("libvirt: instances dir: %w", err)
	}
	for p := dir; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("libvirt: %w", err)
		}
		if mode := st.Mode().Perm(); mode&0o001 == 0 {
			if err := os.Chmod(p, mode|0o011); err != nil && !errors.Is(err, os.ErrPermission) {
				return fmt.Errorf("libvirt: let QEMU reach %s: %w", dir, err)
			}
			d.log.Info("made directory searchable so QEMU can reach instance disks", "dir", p)
		}
		if p == d.cfg.DataDir || p == filepath.Dir(p) || !isWithin(dir, d.cfg.DataDir) {
			return nil
		}
	}
}

// isWithin reports whether path is dir or below it.
func isWithin(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !filepath.IsAbs(rel) && (len(rel) < 3 || rel[:3] != "../")
}
