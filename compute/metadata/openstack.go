package metadata

import (
	"encoding/base64"
	"net"
	"strings"
)

// OpenStack tree file names.
const (
	metaDataJSON    = "meta_data.json"
	userData        = "user_data"
	vendorDataJSON  = "vendor_data.json"
	networkDataJSON = "network_data.json"
	vendorData2JSON = "vendor_data2.json"
)

// The releases whose versions added a file or a field (Nova's names).
const (
	grizzly   = "2013-04-04" // random_seed
	havana    = "2013-10-17" // vendor_data.json
	liberty   = "2015-10-15" // network_data.json, project_id
	newtonOne = "2016-06-30" // devices
	newtonTwo = "2016-10-06" // vendor_data2.json
)

// openstackItem is /openstack/<version>/<file> ("" lists the files).
func openstackItem(inst Instance, version, file string) (Content, error) {
	v, ok := versionIndex(OpenStackVersions, version)
	if !ok {
		return Content{}, ErrNotFound
	}
	since := func(r string) bool { return atLeast(OpenStackVersions, v, r) }
	switch {
	case file == "":
		return text(strings.Join(openstackFiles(inst, since), "\n")), nil
	case file == metaDataJSON:
		return jsonContent(metaData(inst, since)), nil
	case file == userData && inst.UserData != nil:
		return Content{Body: inst.UserData, Type: TypeText}, nil
	case file == vendorDataJSON && since(havana), file == vendorData2JSON && since(newtonTwo):
		// Nova's vendor data with no provider configured.
		return jsonContent(struct{}{}), nil
	case file == networkDataJSON && since(liberty):
		return jsonContent(networkData(inst)), nil
	}
	return Content{}, ErrNotFound
}

// openstackFiles lists a version's files, in Nova's order. Nova's password
// is not served: shoal sets no password.
func openstackFiles(inst Instance, since func(string) bool) []string {
	files := []string{metaDataJSON}
	if inst.UserData != nil {
		files = append(files, userData)
	}
	if since(havana) {
		files = append(files, vendorDataJSON)
	}
	if since(liberty) {
		files = append(files, networkDataJSON)
	}
	if since(newtonTwo) {
		files = append(files, vendorData2JSON)
	}
	return files
}

// metaDataDoc is meta_data.json, its fields in Nova's order; the pointers
// are the fields a version may not have.
type metaDataDoc struct {
	UUID             string            `json:"uuid"`
	Meta             map[string]string `json:"meta,omitempty"`
	PublicKeys       map[string]string `json:"public_keys,omitempty"`
	Keys             []keyDoc          `json:"keys,omitempty"`
	Hostname         string            `json:"hostname"`
	Name             string            `json:"name"`
	LaunchIndex      int               `json:"launch_index"`
	AvailabilityZone string            `json:"availability_zone"`
	RandomSeed       *string           `json:"random_seed,omitempty"`
	ProjectID        *string           `json:"project_id,omitempty"`
	Devices          *[]struct{}       `json:"devices,omitempty"`
}

type keyDoc struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"`
}

// keyType is the only keypair type shoal keeps (Nova's "ssh"; no x509).
const keyType = "ssh"

func metaData(inst Instance, since func(string) bool) metaDataDoc {
	d := metaDataDoc{UUID: inst.UUID, Hostname: inst.Hostname, Name: inst.Name, LaunchIndex: inst.LaunchIndex,
		AvailabilityZone: inst.AvailabilityZone}
	if len(inst.Meta) > 0 {
		d.Meta = inst.Meta
	}
	if inst.KeyName != "" {
		d.PublicKeys = map[string]string{inst.KeyName: inst.KeyData}
		d.Keys = []keyDoc{{Name: inst.KeyName, Type: keyType, Data: inst.KeyData}}
	}
	if since(grizzly) {
		seed := base64.StdEncoding.EncodeToString(inst.RandomSeed)
		d.RandomSeed = &seed
	}
	if since(liberty) {
		d.ProjectID = &inst.ProjectID
	}
	if since(newtonOne) {
		d.Devices = &[]struct{}{} // no tagged devices
	}
	return d
}

// networkDataDoc is network_data.json (Nova's netutils.get_network_metadata).
type networkDataDoc struct {
	Links    []linkDoc    `json:"links"`
	Networks []netDoc     `json:"networks"`
	Services []serviceDoc `json:"services"`
}

type linkDoc struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	MTU  *int   `json:"mtu"`
	MAC  string `json:"ethernet_mac_address"`
}

type netDoc struct {
	ID        string       `json:"id"`
	Type      string       `json:"type"`
	Link      string       `json:"link"`
	IP        string       `json:"ip_address"`
	Netmask   string       `json:"netmask"`
	Routes    []routeDoc   `json:"routes"`
	NetworkID string       `json:"network_id"`
	Services  []serviceDoc `json:"services"`
}

type routeDoc struct {
	Network string `json:"network"`
	Netmask string `json:"netmask"`
	Gateway string `json:"gateway"`
}

type serviceDoc struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// Names in network_data.json. The link is the guest's NIC on a tap of the
// host's Linux bridge: Nova's "bridge" VIF type, and Nova's own name for a
// link whose host device it does not know.
const (
	linkID   = "interface0"
	linkType = "bridge"
	netID    = "network0"
)

// networkData is the port as a static IPv4 configuration with its default
// route (the address is the server's for life, so static is what DHCP would
// give); a server without a port has Nova's empty document.
func networkData(inst Instance) any {
	p := inst.Port
	if !p.IP.IsValid() || len(p.MAC) == 0 {
		return struct{}{}
	}
	l := linkDoc{ID: linkID, Type: linkType, MAC: p.MAC.String()}
	if p.MTU > 0 {
		l.MTU = &p.MTU
	}
	n := netDoc{ID: netID, Type: "ipv4", Link: linkID, IP: p.IP.String(), Routes: []routeDoc{},
		NetworkID: p.NetworkID, Services: []serviceDoc{}}
	if p.Network.IsValid() {
		n.Netmask = net.IP(net.CIDRMask(p.Network.Bits(), 32)).String()
	}
	if p.Gateway.IsValid() {
		n.Routes = append(n.Routes, routeDoc{Network: "0.0.0.0", Netmask: "0.0.0.0", Gateway: p.Gateway.String()})
	}
	return networkDataDoc{Links: []linkDoc{l}, Networks: []netDoc{n}, Services: []serviceDoc{}}
}
