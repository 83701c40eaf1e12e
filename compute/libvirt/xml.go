package libvirt

import (
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/shoal-project/shoal/compute"
	"github.com/shoal-project/shoal/fsm"
)

// domainPrefix starts the libvirt name of every shoal domain: shoal-<uuid>
// is unique per libvirtd even when several nodes share one.
const domainPrefix = "shoal-"

// instanceMetadata is shoal's element in a domain's <metadata>: what makes a
// domain shoal's, and which node owns it.
type instanceMetadata struct {
	XMLName xml.Name `xml:"https://shoal.dev/xmlns/instance/1 instance"`
	UUID    string   `xml:"uuid"`
	Node    string   `xml:"node"`
	Cluster string   `xml:"cluster,omitempty"`
	Name    string   `xml:"name"`
}

// parseMetadata reads the element libvirt returns for MetadataNamespace:
// libvirt drops the namespace from it (the query named it), so any will do.
func parseMetadata(doc string) (instanceMetadata, error) {
	var m struct {
		XMLName xml.Name `xml:"instance"`
		instanceMetadata
	}
	if err := xml.Unmarshal([]byte(doc), &m); err != nil {
		return instanceMetadata{}, fmt.Errorf("libvirt: shoal metadata %q: %w", doc, err)
	}
	return m.instanceMetadata, nil
}

// domainOpts is what a domain needs besides its spec: where things are on
// this host and who owns it.
type domainOpts struct {
	DomainType string // kvm or qemu, from the fingerprint
	Node       string
	ClusterID  string
	DiskPath   string // the instance's qcow2 overlay
	Network    string // libvirt network of the instance's NICs
	ConsoleLog string // file the serial console is logged to
	// ConfigDrive is the instance's config drive ISO, attached as a
	// read-only cdrom on CDROMBus; empty: none.
	ConfigDrive string
	CDROMBus    string
}

// domainFor is the one place a shoal domain's XML is decided. spec.Name is
// user input: it only ever goes into XML through encoding/xml.
func domainFor(spec compute.InstanceSpec, o domainOpts) *libvirtxml.Domain {
	meta, err := xml.Marshal(instanceMetadata{UUID: spec.ID, Node: o.Node, Cluster: o.ClusterID, Name: spec.Name})
	if err != nil {
		panic(fmt.Sprintf("libvirt: marshal metadata: %v", err)) // plain strings always marshal
	}
	port := uint(0)
	d := &libvirtxml.Domain{
		Type:     o.DomainType,
		Name:     domainPrefix + spec.ID,
		UUID:     spec.ID,
		Title:    title(spec.Name),
		Metadata: &libvirtxml.DomainMetadata{XML: string(meta)},
		Memory:   &libvirtxml.DomainMemory{Value: uint(spec.MemoryMiB), Unit: "MiB"},
		VCPU:     &libvirtxml.DomainVCPU{Placement: "static", Value: uint(spec.VCPUs)},
		SysInfo:  []libvirtxml.DomainSysInfo{sysinfo(spec.ID)},
		OS: &libvirtxml.DomainOS{
			Type:        &libvirtxml.DomainOSType{Type: "hvm"},
			BootDevices: []libvirtxml.DomainBootDevice{{Dev: "hd"}},
			SMBios:      &libvirtxml.DomainSMBios{Mode: "sysinfo"},
		},
		// ACPI, or the guest never sees the power button Stop presses.
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "destroy",
		Devices: &libvirtxml.DomainDeviceList{
			Disks: []libvirtxml.DomainDisk{{
				Device: "disk",
				Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "qcow2"},
				Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: o.DiskPath}},
				Target: &libvirtxml.DomainDiskTarget{Dev: "vda", Bus: "virtio"},
			}},
			Serials: []libvirtxml.DomainSerial{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainSerialTarget{Port: &port},
				Log:    &libvirtxml.DomainChardevLog{File: o.ConsoleLog, Append: "on"},
			}},
			Consoles: []libvirtxml.DomainConsole{{
				Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
				Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &port},
			}},
		},
	}
	if o.ConfigDrive != "" {
		d.Devices.Disks = append(d.Devices.Disks, configDriveDisk(o.ConfigDrive, o.CDROMBus))
	}
	// shoal has one network today: every address is a port on it, and an
	// instance has one address, so one port whose tap is TapName's. A second
	// port (none is made today) would take libvirt's vnetN: two taps of one
	// name cannot exist.
	for i, a := range spec.Addresses {
		nic := libvirtxml.DomainInterface{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: a.MAC},
			Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: o.Network}},
			Model:  &libvirtxml.DomainInterfaceModel{Type: "virtio"},
		}
		if i == 0 {
			nic.Target = &libvirtxml.DomainInterfaceTarget{Dev: TapName(spec.ID)}
		}
		d.Devices.Interfaces = append(d.Devices.Interfaces, nic)
	}
	return d
}

// SMBIOS system information every guest sees (dmidecode, and
// /sys/class/dmi/id/ on Linux), as Nova's libvirt driver sets it: cloud-init
// engages its OpenStack datasource only when the product is Nova's (or a
// config drive is present), and finds the instance's UUID in the serial.
const (
	smbiosManufacturer = "OpenStack Foundation"
	smbiosProduct      = "OpenStack Nova"
	smbiosFamily       = "Virtual Machine"
)

// sysinfo is the domain's SMBIOS system block: serial and UUID are the
// server's UUID (Nova's sysinfo_serial=unique; libvirt requires the uuid
// entry to equal the domain's).
func sysinfo(id string) libvirtxml.DomainSysInfo {
	return libvirtxml.DomainSysInfo{SMBIOS: &libvirtxml.DomainSysInfoSMBIOS{
		System: &libvirtxml.DomainSysInfoSystem{Entry: []libvirtxml.DomainSysInfoEntry{
			{Name: "manufacturer", Value: smbiosManufacturer},
			{Name: "product", Value: smbiosProduct},
			{Name: "serial", Value: id},
			{Name: "uuid", Value: id},
			{Name: "family", Value: smbiosFamily},
		}},
	}}
}

// TapName is the host-side device of an instance's port: "tap" and the
// first 11 characters of its ID, as Neutron names a port's tap. It is
// decided here, not by libvirt (vnetN, in start order), so the host's
// network reconciler finds a guest's port from the FSM alone and filters it
// from the moment QEMU creates it. 14 bytes fit IFNAMSIZ.
func TapName(instanceID string) string {
	return "tap" + instanceID[:min(11, len(instanceID))]
}

// title is the server's name as libvirt accepts a title: one line.
func title(name string) string {
	return strings.Join(strings.Fields(name), " ")
}

// networkName is the libvirt network of shoal network name.
func networkName(n fsm.NetworkInfo) string { return domainPrefix + n.Name + "-" + shortHash(n.CIDR) }

// placeholderMAC reserves the gateway's own address for a MAC no guest has.
// libvirt gives dnsmasq a static DHCP range only when the network starts with
// at least one reservation, and reservations added later only reload the
// hosts file; with this entry a network started before any instance still
// answers DHCP once instances are added.
const placeholderMAC = "52:54:00:00:00:01"

func placeholderHost(gateway string) libvirtxml.NetworkDHCPHost {
	return libvirtxml.NetworkDHCPHost{MAC: placeholderMAC, IP: gateway, Name: "shoal-gateway"}
}

// bridgeFor is the Linux bridge of a cluster network: the configured one, or
// one named after the CIDR, so clusters with different networks can share a
// libvirtd (their bridges would otherwise clash).
func bridgeFor(configured, cidr string) string {
	if configured != "" {
		return configured
	}
	return "shbr" + shortHash(cidr)
}

// shortHash is 8 hex digits of FNV-1a: enough to tell networks and data
// directories apart in libvirt object names.
func shortHash(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

// bridgeMAC is the bridge's MAC on every host of a cluster network:
// fa:16:3f (locally administered, next to the guests' fa:16:3e) and 3 bytes
// of FNV-1a of the CIDR. Every host's bridge is the same gateway (anycast):
// with one MAC too, a guest's ARP entry for its gateway stays right when the
// guest moves to another host.
func bridgeMAC(cidr string) string {
	h := fnv.New32a()
	h.Write([]byte(cidr))
	s := h.Sum(nil)
	return fmt.Sprintf("fa:16:3f:%02x:%02x:%02x", s[0], s[1], s[2])
}

// networkFor is the libvirt network of the cluster network: forward mode
// open (libvirt routes nothing and adds no firewall rule: shoal's
// compute/network owns routing and filtering), the anycast gateway (the
// same address and bridge MAC on every host), DHCP with static reservations
// only, added per instance by each node. STP is off: the bridge holds only
// guests' taps (nothing it could loop through), and with STP on the kernel
// raises libvirt's delay 0 to its 2 s minimum and holds every new port in
// listening and learning for 2 × 2 s: a live-migrated guest, whose tap
// joins the bridge a moment before it resumes, would stay unreachable for
// ~3 s after the switch-over (compute/network/DESIGN.md).
func networkFor(n fsm.NetworkInfo, bridge string) (*libvirtxml.Network, error) {
	prefix, err := netip.ParsePrefix(n.CIDR)
	if err != nil || !prefix.Addr().Is4() {
		return nil, fmt.Errorf("libvirt: network %s: CIDR %q is not IPv4", n.Name, n.CIDR)
	}
	gw, err := netip.ParseAddr(n.Gateway)
	if err != nil || !prefix.Contains(gw) {
		return nil, fmt.Errorf("libvirt: network %s: gateway %q is not in %s", n.Name, n.Gateway, n.CIDR)
	}
	return &libvirtxml.Network{
		Name:    networkName(n),
		Forward: &libvirtxml.NetworkForward{Mode: "open"},
		Bridge:  &libvirtxml.NetworkBridge{Name: bridgeFor(bridge, n.CIDR), STP: "off", Delay: "0"},
		MAC:     &libvirtxml.NetworkMAC{Address: bridgeMAC(n.CIDR)},
		IPs: []libvirtxml.NetworkIP{{
			Address: gw.String(),
			Netmask: netmask(prefix.Bits()),
			DHCP:    &libvirtxml.NetworkDHCP{Hosts: []libvirtxml.NetworkDHCPHost{placeholderHost(gw.String())}},
		}},
	}, nil
}

// netmask spells an IPv4 prefix length as a dotted mask.
func netmask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return fmt.Sprintf("%d.%d.%d.%d", byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
}

// dhcpHost is one static reservation; hostname is already sanitized.
func dhcpHost(a fsm.Address, hostname string) libvirtxml.NetworkDHCPHost {
	return libvirtxml.NetworkDHCPHost{MAC: a.MAC, IP: a.IP, Name: hostname}
}

// poolFor is this node's dir pool of instance disks.
func poolFor(name, dir string) *libvirtxml.StoragePool {
	return &libvirtxml.StoragePool{
		Type:   "dir",
		Name:   name,
		Target: &libvirtxml.StoragePoolTarget{Path: dir, Permissions: &libvirtxml.StoragePoolTargetPermissions{Mode: "0711"}},
	}
}

// volumeFor is an instance disk: a qcow2 overlay on the cached base image.
func volumeFor(name string, capacity uint64, basePath, baseFormat string) *libvirtxml.StorageVolume {
	return &libvirtxml.StorageVolume{
		Name:     name,
		Capacity: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: capacity},
		Target:   &libvirtxml.StorageVolumeTarget{Format: &libvirtxml.StorageVolumeTargetFormat{Type: "qcow2"}},
		BackingStore: &libvirtxml.StorageVolumeBackingStore{
			Path:   basePath,
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: baseFormat},
		},
	}
}

// interfaces lists the MACs of a domain's NICs by libvirt network.
func interfaces(domainXML string) (map[string][]string, error) {
	var def libvirtxml.Domain
	if err := def.Unmarshal(domainXML); err != nil {
		return nil, fmt.Errorf("libvirt: domain XML: %w", err)
	}
	out := map[string][]string{}
	if def.Devices == nil {
		return out, nil
	}
	for _, nic := range def.Devices.Interfaces {
		if nic.Source == nil || nic.Source.Network == nil || nic.MAC == nil {
			continue
		}
		out[nic.Source.Network.Network] = append(out[nic.Source.Network.Network], nic.MAC.Address)
	}
	return out, nil
}
