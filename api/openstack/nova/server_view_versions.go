package nova

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// The server view's fields of microversions after 2.1 (Nova's
// views/servers.py show()): which a call shows depends on the version it
// asked for, the view (GET, a list, PUT) and the caller's role.

// MarshalJSON writes the 2.1 fields, then the later ones: one object.
func (s server) MarshalJSON() ([]byte, error) {
	type plain server
	b, err := json.Marshal(plain(s))
	if err != nil || len(s.later) == 0 {
		return b, err
	}
	extra, err := json.Marshal(s.later)
	if err != nil {
		return nil, err
	}
	out := bytes.TrimSuffix(b, []byte("}"))
	return append(append(out, ','), extra[1:]...), nil
}

// rootDevice is the guest's first disk: shoal's libvirt domains boot from
// virtio disk vda, as Nova's libvirt driver names it.
const rootDevice = "/dev/vda"

// laterFields are the fields after 2.1 that r's version, o's view and
// caller show of d and inst.
func laterFields(r *http.Request, d api.ServerDetail, inst fsm.Instance, o viewOpts) map[string]any {
	v := osapi.Requested(r.Context())
	f := map[string]any{}
	if o.detail && o.admin && v.AtLeast(2, 3) {
		// What 2.3 adds to the admin's OS-EXT-SRV-ATTR.
		f["OS-EXT-SRV-ATTR:reservation_id"] = nullable(reservationOf(inst))
		f["OS-EXT-SRV-ATTR:launch_index"] = inst.LaunchIndex
		f["OS-EXT-SRV-ATTR:kernel_id"] = ""
		f["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		f["OS-EXT-SRV-ATTR:root_device_name"] = nil
		if d.Host != "" {
			f["OS-EXT-SRV-ATTR:root_device_name"] = rootDevice
		}
		f["OS-EXT-SRV-ATTR:user_data"] = nullable(inst.UserData)
	}
	if o.detail && o.admin && v.AtLeast(2, 3) || v.AtLeast(2, 90) {
		f["OS-EXT-SRV-ATTR:hostname"] = hostnameOf(inst)
	}
	if v.AtLeast(2, 9) {
		f["locked"] = d.Locked
	}
	if o.detail && o.admin && v.AtLeast(2, 16) {
		f["host_status"] = o.hostStatus(d.Host)
	}
	if v.AtLeast(2, 19) {
		f["description"] = nullable(d.Description)
	}
	if v.AtLeast(2, 26) {
		tags := inst.Tags
		if tags == nil {
			tags = []string{}
		}
		f["tags"] = tags
	}
	if v.AtLeast(2, 63) {
		// shoal verifies no image signatures: no server has trusted
		// certificates (a create asking for some is refused).
		f["trusted_image_certificates"] = nil
	}
	if v.AtLeast(2, 71) && !o.list {
		groups := []string{}
		if inst.ServerGroupID != "" {
			groups = append(groups, inst.ServerGroupID)
		}
		f["server_groups"] = groups
	}
	if v.AtLeast(2, 73) {
		f["locked_reason"] = nullable(d.LockedReason)
	}
	if o.detail && v.AtLeast(2, 96) {
		f["pinned_availability_zone"] = nullable(inst.AvailabilityZone)
	}
	if v.AtLeast(2, 100) {
		hints := map[string][]string{}
		if inst.ServerGroupID != "" {
			hints["group"] = []string{inst.ServerGroupID}
		}
		f["scheduler_hints"] = hints
	}
	return f
}

// hostnameOf is the server's hostname; one created before hostnames were
// kept has the one Nova would have derived from its name.
func hostnameOf(inst fsm.Instance) string {
	if inst.Hostname != "" {
		return inst.Hostname
	}
	return fsm.SanitizeHostname(inst.Name, "Server-"+inst.ID)
}

// hostStatus is Nova's host_status (2.16) of a server on host: "" without
// one, DOWN when forced down or gone, MAINTENANCE when disabled, UP when
// alive, else UNKNOWN.
func (o viewOpts) hostStatus(host string) string {
	h, ok := o.hosts[host]
	switch {
	case host == "":
		return ""
	case !ok:
		return "UNKNOWN"
	case h.ForcedDown || h.Down:
		return "DOWN"
	case !h.Enabled:
		return "MAINTENANCE"
	case h.State == "up":
		return "UP"
	}
	return "UNKNOWN"
}

// flavorEmbedded is 2.47's flavor: the server's flavor as it was at
// create, by value.
type flavorEmbedded struct {
	OriginalName string            `json:"original_name"`
	VCPUs        int               `json:"vcpus"`
	RAM          int               `json:"ram"`
	Disk         int               `json:"disk"`
	Ephemeral    int               `json:"ephemeral"`
	Swap         int               `json:"swap"`
	ExtraSpecs   map[string]string `json:"extra_specs"`
}

// embeddedFlavor is the server's flavor at 2.47: its size as created, the
// extra disks and extra specs from the flavor (while it exists).
func embeddedFlavor(inst fsm.Instance, o viewOpts) flavorEmbedded {
	spec := inst.Flavor
	out := flavorEmbedded{OriginalName: spec.Name, VCPUs: spec.VCPUs, RAM: spec.RAM, Disk: spec.Disk,
		ExtraSpecs: map[string]string{}}
	if f, ok := o.lookups.flavor(spec.ID); ok {
		out.Ephemeral, out.Swap = f.Ephemeral, f.Swap
		for k, v := range f.ExtraSpecs {
			out.ExtraSpecs[k] = v
		}
	}
	return out
}

// imageWithProperties is 2.98's image: the link and the image's standard
// properties (Nova's ImageMetaProps: hw_*, img_*, os_*).
type imageWithProperties struct {
	imageLink
	Properties map[string]string `json:"properties"`
}

func imageProperties(id string, o viewOpts) map[string]string {
	out := map[string]string{}
	for k, v := range o.lookups.image(id) {
		if strings.HasPrefix(k, "hw_") || strings.HasPrefix(k, "img_") || strings.HasPrefix(k, "os_") {
			out[k] = v
		}
	}
	return out
}

// viewLookups reads, once per answer, the flavors and images the views of
// later microversions embed.
type viewLookups struct {
	ctx     context.Context
	ops     *api.Ops
	flavors map[string]*fsm.Flavor
	images  map[string]map[string]string
}

func (l *viewLookups) flavor(id string) (fsm.Flavor, bool) {
	if l == nil {
		return fsm.Flavor{}, false
	}
	f, ok := l.flavors[id]
	if !ok {
		if got, err := l.ops.Flavor(l.ctx, id); err == nil && got.ID == id {
			f = &got
		}
		l.flavors[id] = f
	}
	if f == nil {
		return fsm.Flavor{}, false
	}
	return *f, true
}

func (l *viewLookups) image(id string) map[string]string {
	if l == nil {
		return nil
	}
	p, ok := l.images[id]
	if !ok {
		if img, err := l.ops.Image(l.ctx, id); err == nil {
			p = img.Properties
		}
		l.images[id] = p
	}
	return p
}

// commonOpts are the options every view of a call shares: the caller's
// role and the lookups.
func (m *Module) commonOpts(r *http.Request) viewOpts {
	return viewOpts{admin: isAdmin(r), lookups: &viewLookups{ctx: r.Context(), ops: m.ops,
		flavors: map[string]*fsm.Flavor{}, images: map[string]map[string]string{}}}
}
