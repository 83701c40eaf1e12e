package libvirt

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

	golibvirt "github.com/digitalocean/go-libvirt"

	"github.com/shoal-project/shoal/fsm"
)

// Where the host tells whether KVM can really run guests.
const (
	kvmDevice   = "/dev/kvm"
	cpuinfoPath = "/proc/cpuinfo"
)

// Fingerprint asks libvirtd and the data dir's filesystem what this host offers.
// The domain type (kvm or qemu) is the driver's own, not part of the
// inventory: it is probed at the first fingerprint, so the agent logs its
// decision when it starts, and Define uses it.
func (d *Driver) Fingerprint(ctx context.Context) (fsm.Inventory, error) {
	var f fsm.Inventory
	if err := ctx.Err(); err != nil {
		return f, err
	}
	l, err := d.client()
	if err != nil {
		return f, err
	}

	model, memKiB, cpus, _, _, _, _, _, err := l.NodeGetInfo()
	if err != nil {
		return f, fmt.Errorf("libvirt: node info: %w", err)
	}
	freeBytes, err := l.NodeGetFreeMemory()
	if err != nil {
		return f, fmt.Errorf("libvirt: node free memory: %w", err)
	}
	stats, err := nodeMemoryStats(l)
	if err != nil { // an older or remote libvirtd: NodeGetInfo's figures stand
		d.log.Debug("libvirt: node memory stats", "err", err)
	}
	memMiB, memFreeMiB := hostMemory(memKiB, freeBytes, stats)
	hvType, err := l.ConnectGetType()
	if err != nil {
		return f, fmt.Errorf("libvirt: hypervisor type: %w", err)
	}
	hvVersion, err := l.ConnectGetVersion()
	if err != nil {
		return f, fmt.Errorf("libvirt: hypervisor version: %w", err)
	}
	diskGiB, diskFreeGiB, err := diskUsage(d.cfg.DataDir)
	if err != nil {
		return f, err
	}
	if _, err := d.probeDomainType(l); err != nil {
		return f, err
	}
	instances, vcpusUsed, err := d.countInstances(ctx, l)
	if err != nil {
		return f, err
	}

	return fsm.Inventory{
		VCPUs:             int(cpus),
		VCPUsFree:         int(cpus) - vcpusUsed, // negative when overcommitted
		MemoryMiB:         memMiB,
		MemoryFreeMiB:     memFreeMiB,
		DiskGiB:           diskGiB,
		DiskFreeGiB:       diskFreeGiB,
		Arch:              fsm.CanonicalArch(cString(model[:])),
		HypervisorType:    hvType,
		HypervisorVersion: formatVersion(hvVersion),
		Instances:         instances,
	}, nil
}

// nodeMemoryStats asks for the memory of all NUMA cells together, which
// libvirtd reads from the host's /proc/meminfo (KiB per field).
func nodeMemoryStats(l *golibvirt.Libvirt) (map[string]uint64, error) {
	_, n, err := l.NodeGetMemoryStats(0, int32(golibvirt.NodeMemoryStatsAllCells), 0) // how many fields
	if err != nil {
		return nil, err
	}
	params, _, err := l.NodeGetMemoryStats(n, int32(golibvirt.NodeMemoryStatsAllCells), 0)
	if err != nil {
		return nil, err
	}
	stats := make(map[string]uint64, len(params))
	for _, p := range params {
		stats[p.Field] = p.Value
	}
	return stats, nil
}

// hostMemory is the whole host's memory, total and free, in MiB. On some
// hosts NodeGetInfo and NodeGetFreeMemory count one NUMA cell only (6 GiB
// of 24 on the CI machines), so the memory stats of all cells (fields
// "total", "free", "buffers", "cached", KiB) are taken when they say more.
// Free counts what the kernel hands back on demand (buffers and page
// cache), as Nova's libvirt driver does, and never exceeds the total.
func hostMemory(infoKiB, freeBytes uint64, stats map[string]uint64) (totalMiB, freeMiB int64) {
	totalKiB := max(infoKiB, stats["total"])
	freeKiB := max(freeBytes>>10, stats["free"]+stats["buffers"]+stats["cached"])
	return int64(totalKiB >> 10), int64(min(freeKiB, totalKiB) >> 10)
}

// countInstances returns how many domains are this node's and the vCPUs
// held by those of them that are active (running or paused: their vCPU
// threads exist). A driver without a node counts every shoal domain.
func (d *Driver) countInstances(ctx context.Context, l *golibvirt.Libvirt) (instances, vcpus int, err error) {
	doms, _, err := l.ConnectListAllDomains(1, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("libvirt: list domains: %w", err)
	}
	for _, dom := range doms {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		m, ok, err := metadata(l, dom)
		switch {
		case hasCode(err, golibvirt.ErrNoDomain):
			continue // undefined since the listing
		case err != nil:
			return 0, 0, fmt.Errorf("libvirt: metadata of domain %s: %w", dom.Name, err)
		case !ok:
			continue // not shoal's
		}
		if d.cfg.Node != "" && !d.owns(m) {
			continue // another node's, on a shared libvirtd
		}
		instances++
		if dom.ID == -1 { // inactive
			continue
		}
		_, _, _, n, _, err := l.DomainGetInfo(dom)
		switch {
		case hasCode(err, golibvirt.ErrNoDomain):
			continue
		case err != nil:
			return 0, 0, fmt.Errorf("libvirt: info of domain %s: %w", dom.Name, err)
		}
		vcpus += int(n)
	}
	return instances, vcpus, nil
}

// probeDomainType decides once whether guests get KVM or TCG. A successful
// domain capabilities answer for kvm is not enough: it only needs /dev/kvm,
// and on CPUs without vmx/svm KVM guests then hang.
func (d *Driver) probeDomainType(l *golibvirt.Libvirt) (string, error) {
	d.mu.RLock()
	t := d.domainType
	d.mu.RUnlock()
	if t != "" {
		return t, nil
	}

	deviceOpens := false
	if f, err := os.OpenFile(kvmDevice, os.O_RDWR, 0); err == nil {
		deviceOpens = true
		f.Close()
	}
	cpuinfo, _ := os.ReadFile(cpuinfoPath) // unreadable: no extensions
	cpuVirt := cpuHasVirtExtensions(string(cpuinfo))
	kvmCaps := false
	if deviceOpens && cpuVirt {
		_, err := l.ConnectGetDomainCapabilities(nil, nil, nil, golibvirt.OptString{"kvm"}, 0)
		var lerr golibvirt.Error
		switch {
		case err == nil:
			kvmCaps = true
		case !errors.As(err, &lerr): // not libvirtd's answer: decide later
			return "", fmt.Errorf("libvirt: domain capabilities: %w", err)
		}
	}
	t = chooseDomainType(deviceOpens, cpuVirt, kvmCaps)
	d.log.Info("libvirt domain type decided", "domain_type", t,
		"kvm_device_opens", deviceOpens, "cpu_vmx_or_svm", cpuVirt, "kvm_capabilities", kvmCaps)

	d.mu.Lock()
	defer d.mu.Unlock()
	d.domainType = t
	return t, nil
}

// chooseDomainType is "kvm" only when every probe says KVM guests will run.
func chooseDomainType(kvmDeviceOpens, cpuHasVirt, kvmCapabilities bool) string {
	if kvmDeviceOpens && cpuHasVirt && kvmCapabilities {
		return "kvm"
	}
	return "qemu"
}

// cpuHasVirtExtensions reports whether /proc/cpuinfo lists Intel VT-x (vmx) or
// AMD-V (svm) among the x86 CPU flags.
func cpuHasVirtExtensions(cpuinfo string) bool {
	for line := range strings.Lines(cpuinfo) {
		key, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(key) != "flags" {
			continue
		}
		for _, flag := range strings.Fields(value) {
			if flag == "vmx" || flag == "svm" {
				return true
			}
		}
	}
	return false
}

// formatVersion turns libvirt's major*1,000,000 + minor*1,000 + release into
// "major.minor.release".
func formatVersion(v uint64) string {
	return fmt.Sprintf("%d.%d.%d", v/1_000_000, v/1_000%1_000, v%1_000)
}

// cString converts a NUL-terminated C char array.
func cString(b []int8) string {
	s := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// diskUsage returns the size and the space left to unprivileged users, in
// whole GiB, of the filesystem holding dir.
func diskUsage(dir string) (total, free int64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("libvirt: disk of data dir: %w", err)
	}
	bsize := uint64(st.Bsize)
	return int64(st.Blocks * bsize >> 30), int64(st.Bavail * bsize >> 30), nil
}

// hasCode reports whether err is libvirtd's error with the given number.
func hasCode(err error, code golibvirt.ErrorNumber) bool {
	var lerr golibvirt.Error
	return errors.As(err, &lerr) && lerr.Code == uint32(code)
}
