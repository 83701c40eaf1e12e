package nova

import (
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// Extension is an entry of Nova's legacy extension list: v2.1 has no
// extensions, but Nova still answers /extensions with a static list, and
// older clients (and Tempest) read it.
type Extension struct {
	Name        string `json:"name"`
	Alias       string `json:"alias"`
	Description string `json:"description"`
	Namespace   string `json:"namespace"`
	Updated     string `json:"updated"`
	Links       []any  `json:"links"`
}

// Nova's fixed values for every entry (its extension_info.py).
const (
	extensionNamespace = "http://docs.openstack.org/compute/ext/fake_xml"
	extensionUpdated   = "2014-12-03T00:00:00Z"
)

// extensions lists only what this module and the servers part serve
// (unlike Nova, whose list names every extension it ever had): a client
// that checks for an alias should not be told of a feature that is absent.
// Sorted by alias, as Nova sorts them.
var extensions = []struct{ name, alias, description string }{
	{"DiskConfig", "OS-DCF", "Disk Management Extension."},
	{"ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."},
	{"ExtendedIps", "OS-EXT-IPS", "Adds type parameter to the ip list."},
	{"ExtendedIpsMac", "OS-EXT-IPS-MAC", "Adds mac address parameter to the ip list."},
	{"ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."},
	{"ExtendedStatus", "OS-EXT-STS", "Extended Status support."},
	{"FlavorDisabled", "OS-FLV-DISABLED", "Support to show the disabled status of a flavor."},
	{"FlavorExtraData", "OS-FLV-EXT-DATA", "Provide additional data for flavors."},
	{"SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler."},
	{"ServerUsage", "OS-SRV-USG", "Adds launched_at and terminated_at on Servers."},
	{"AdminActions", "os-admin-actions", "Enable admin-only server actions."},
	{"AvailabilityZone", "os-availability-zone", "1. Add availability_zone to the Create Server API.\n2. Add availability zones describing.\n"},
	{"ConfigDrive", "os-config-drive", "Config Drive Extension."},
	{"ConsoleOutput", "os-console-output", "Console log output support, with tailing ability."},
	{"Evacuate", "os-evacuate", "Enables server evacuation."},
	{"ExtendedHypervisors", "os-extended-hypervisors", "Extended hypervisors support."},
	{"ExtendedQuotas", "os-extended-quotas", "Adds ability for admins to delete quota and optionally force the update Quota command."},
	{"ExtendedServices", "os-extended-services", "Extended services support."},
	{"ExtendedVolumes", "os-extended-volumes", "Extended Volumes support."},
	{"FlavorAccess", "os-flavor-access", "Flavor access support."},
	{"FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."},
	{"FlavorManage", "os-flavor-manage", "Flavor create/delete API support."},
	{"FlavorRxtx", "os-flavor-rxtx", "Support to show the rxtx status of a flavor."},
	{"FlavorSwap", "os-flavor-swap", "Support to show the swap status of a flavor."},
	{"HypervisorStatus", "os-hypervisor-status", "Show hypervisor status."},
	{"Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."},
	{"InstanceActions", "os-instance-actions", "View a log of actions and events taken on an instance."},
	{"Keypairs", "os-keypairs", "Keypair Support."},
	{"LockServer", "os-lock-server", "Enable lock/unlock server actions."},
	{"MultipleCreate", "os-multiple-create", "Allow multiple create in the Create Server v2.1 API."},
	{"PauseServer", "os-pause-server", "Enable pause/unpause server actions."},
	{"Quotas", "os-quota-sets", "Quotas management support."},
	{"SecurityGroups", "os-security-groups", "Security group support."},
	{"ServerGroupQuotas", "os-server-group-quotas", "Adds quota support to server groups."},
	{"ServerGroups", "os-server-groups", "Server group support."},
	{"ServerPassword", "os-server-password", "Server password support."},
	{"ServerStartStop", "os-server-start-stop", "Start/Stop instance compute API support."},
	{"Services", "os-services", "Services support."},
	{"SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."},
	{"SuspendServer", "os-suspend-server", "Enable suspend/resume server actions."},
	{"UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."},
	{"UserData", "os-user-data", "Add user_data to the Create Server API."},
}

func (m *Module) registerExtensions(r api.Router) {
	m.route(r, "GET /extensions", api.AccessAuthenticated, m.listExtensions)
	m.route(r, "GET /extensions/{alias}", api.AccessAuthenticated, m.showExtension)
}

func extensionView(i int) Extension {
	e := extensions[i]
	return Extension{Name: e.name, Alias: e.alias, Description: e.description,
		Namespace: extensionNamespace, Updated: extensionUpdated, Links: []any{}}
}

func (m *Module) listExtensions(w http.ResponseWriter, r *http.Request) {
	out := make([]Extension, len(extensions))
	for i := range extensions {
		out[i] = extensionView(i)
	}
	api.WriteJSON(w, http.StatusOK, map[string][]Extension{"extensions": out})
}

func (m *Module) showExtension(w http.ResponseWriter, r *http.Request) {
	alias := r.PathValue("alias")
	for i, e := range extensions {
		if e.alias == alias {
			api.WriteJSON(w, http.StatusOK, map[string]Extension{"extension": extensionView(i)})
			return
		}
	}
	m.fail(w, r, fmt.Errorf("%w: The resource could not be found.", fsm.ErrNotFound))
}
