package nova

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// Nova's status filter and sort keys for the server lists.

// stateMap is Nova's _STATE_MAP (nova/api/openstack/common.py): the status
// each vm_state shows, by task_state ("" is its default). The status
// filter goes through it backwards, as Nova's does: a status selects the
// vm_states that can show it and, unless one of them shows it by default,
// the task_states that do. So status=ACTIVE also lists a rebooting server,
// as in Nova.
var stateMap = map[string]map[string]string{
	fsm.VMActive: {"": "ACTIVE", "rebooting": "REBOOT", "reboot_pending": "REBOOT", "reboot_started": "REBOOT",
		"rebooting_hard": "HARD_REBOOT", "reboot_pending_hard": "HARD_REBOOT", "reboot_started_hard": "HARD_REBOOT",
		"updating_password": "PASSWORD", "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
		"rebuild_spawning": "REBUILD", "migrating": "MIGRATING", "resize_prep": "RESIZE",
		"resize_migrating": "RESIZE", "resize_migrated": "RESIZE", "resize_finish": "RESIZE"},
	fsm.VMBuilding: {"": "BUILD"},
	fsm.VMStopped: {"": "SHUTOFF", "resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE",
		"resize_finish": "RESIZE", "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
		"rebuild_spawning": "REBUILD"},
	"resized":       {"": "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE", "resize_revert_finish": "REVERT_RESIZE"},
	fsm.VMPaused:    {"": "PAUSED", "migrating": "MIGRATING"},
	fsm.VMSuspended: {"": "SUSPENDED"},
	"rescued":       {"": "RESCUE"},
	fsm.VMError: {"": "ERROR", "rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
		"rebuild_spawning": "REBUILD"},
	fsm.VMDeleted:       {"": "DELETED"},
	"soft-delete":       {"": "SOFT_DELETED"},
	"shelved":           {"": "SHELVED"},
	"shelved_offloaded": {"": "SHELVED_OFFLOADED"},
}

// statusMatches is Nova's status filter on a server in vmState and
// taskState: statuses give the vm_states and task_states they map from,
// and a server matches when its vm_state is one of them and, unless one
// maps by default, its task_state too. An unknown status matches nothing
// (at 2.1; 2.38 makes it 400).
func statusMatches(statuses []string, vmState, taskState string) bool {
	vms, tasks, anyTask := map[string]bool{}, map[string]bool{}, false
	for vm, byTask := range stateMap {
		for task, status := range byTask {
			if slices.ContainsFunc(statuses, func(s string) bool { return strings.EqualFold(s, status) }) {
				vms[vm], tasks[task] = true, true
				anyTask = anyTask || task == ""
			}
		}
	}
	return vms[vmState] && (anyTask || tasks[taskState])
}

// sortKey is one key of the order and its direction.
type sortKey struct {
	key  string
	desc bool
}

// sortable are the sort keys Nova takes that mean something here; the
// rest of its valid keys order nothing (they compare equal).
var sortable = map[string]func(a, b serverRow) int{
	"created_at":        func(a, b serverRow) int { return a.d.Created.Compare(b.d.Created) },
	"updated_at":        func(a, b serverRow) int { return a.d.Updated.Compare(b.d.Updated) },
	"display_name":      func(a, b serverRow) int { return cmp.Compare(a.d.Name, b.d.Name) },
	"uuid":              func(a, b serverRow) int { return cmp.Compare(a.d.ID, b.d.ID) },
	"host":              func(a, b serverRow) int { return cmp.Compare(a.d.Host, b.d.Host) },
	"node":              func(a, b serverRow) int { return cmp.Compare(a.d.Host, b.d.Host) },
	"vm_state":          func(a, b serverRow) int { return cmp.Compare(a.d.VMState, b.d.VMState) },
	"task_state":        func(a, b serverRow) int { return cmp.Compare(a.d.TaskState, b.d.TaskState) },
	"power_state":       func(a, b serverRow) int { return cmp.Compare(a.d.PowerState, b.d.PowerState) },
	"availability_zone": func(a, b serverRow) int { return cmp.Compare(a.d.AvailabilityZone, b.d.AvailabilityZone) },
	"key_name":          func(a, b serverRow) int { return cmp.Compare(a.d.KeyName, b.d.KeyName) },
	"user_id":           func(a, b serverRow) int { return cmp.Compare(a.d.UserID, b.d.UserID) },
	"project_id":        func(a, b serverRow) int { return cmp.Compare(a.d.TenantID, b.d.TenantID) },
	"image_ref":         func(a, b serverRow) int { return cmp.Compare(a.d.Image.ID, b.d.Image.ID) },
	"instance_type_id":  func(a, b serverRow) int { return cmp.Compare(a.d.Flavor.ID, b.d.Flavor.ID) },
	// Nova's tie-breaker, its integer primary key, is the creation order;
	// the Raft index of the create is that here.
	"id": func(a, b serverRow) int {
		return cmp.Or(cmp.Compare(a.inst.CreateIndex, b.inst.CreateIndex), cmp.Compare(a.d.ID, b.d.ID))
	},
}

// validSortKeys are the sort keys Nova's 2.1 query schema accepts; any
// other is 400. ignoredSortKeys among them are dropped, as Nova drops them.
var (
	validSortKeys = []string{"access_ip_v4", "access_ip_v6", "auto_disk_config", "availability_zone", "config_drive",
		"created_at", "display_description", "display_name", "host", "hostname", "image_ref", "instance_type_id",
		"kernel_id", "key_name", "launch_index", "launched_at", "locked_by", "node", "power_state", "progress",
		"project_id", "ramdisk_id", "root_device_name", "task_state", "terminated_at", "updated_at", "user_id",
		"uuid", "vm_state"}
	ignoredSortKeys = []string{"architecture", "cell_name", "cleaned", "default_ephemeral_device",
		"default_swap_device", "deleted", "deleted_at", "disable_terminate", "ephemeral_gb", "ephemeral_key_uuid",
		"id", "key_data", "launched_on", "locked", "memory_mb", "os_type", "reservation_id", "root_gb",
		"shutdown_terminate", "user_data", "vcpus", "vm_mode"}
)

// parseSort reads sort_key and sort_dir (each may repeat) as Nova's
// get_sort_params and remove_invalid_sort_keys do, and appends Nova's
// tie-breakers (created_at, id) in the first direction.
func parseSort(v url.Values, admin bool) ([]sortKey, error) {
	keys, dirs := v["sort_key"], v["sort_dir"]
	var out []sortKey
	for k, key := range keys {
		key = strings.TrimSpace(key)
		switch {
		case slices.Contains(ignoredSortKeys, key):
			continue
		case !slices.Contains(validSortKeys, key):
			return nil, badRequest("Invalid input for query parameters sort_key. Value: %s. '%s' is not one of %s",
				key, key, "['"+strings.Join(append(slices.Clone(validSortKeys), ignoredSortKeys...), "', '")+"']")
		case (key == "host" || key == "node") && !admin:
			return nil, failure(http.StatusForbidden, "Only administrators can sort servers by %s", key)
		}
		dir := "desc"
		switch {
		case k < len(dirs):
			dir = strings.TrimSpace(dirs[k])
		case len(dirs) > 0:
			dir = strings.TrimSpace(dirs[0])
		}
		if dir != "asc" && dir != "desc" {
			return nil, badRequest("Invalid input received: Unknown sort direction, must be 'desc' or 'asc'")
		}
		out = append(out, sortKey{key: key, desc: dir == "desc"})
	}
	desc := true
	if len(out) > 0 {
		desc = out[0].desc
	} else if len(dirs) > 0 {
		desc = strings.TrimSpace(dirs[0]) != "asc"
	}
	for _, key := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(out, func(s sortKey) bool { return s.key == key }) {
			out = append(out, sortKey{key: key, desc: desc})
		}
	}
	return out, nil
}

// sortRows orders rows by keys.
func sortRows(rows []serverRow, keys []sortKey) {
	slices.SortStableFunc(rows, func(a, b serverRow) int {
		for _, k := range keys {
			compare, ok := sortable[k.key]
			if !ok {
				continue
			}
			if c := compare(a, b); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
}
