package fsm

import "time"

// VM states, task states and power states follow Nova's names and meaning.
const (
	VMBuilding  = "building"
	VMActive    = "active"
	VMStopped   = "stopped"
	VMPaused    = "paused"
	VMSuspended = "suspended"
	VMError     = "error"
	VMDeleted   = "deleted"

	TaskNone          = ""
	TaskScheduling    = "scheduling"
	TaskSpawning      = "spawning"
	TaskPoweringOff   = "powering-off"
	TaskPoweringOn    = "powering-on"
	TaskRebooting     = "rebooting"
	TaskRebootingHard = "rebooting_hard"
	TaskPausing       = "pausing"
	TaskUnpausing     = "unpausing"
	TaskSuspending    = "suspending"
	TaskResuming      = "resuming"
	TaskDeleting      = "deleting"
	// An evacuated server waits for a new host (rebuilding), then is rebuilt
	// there from its image (rebuild_spawning), as Nova's evacuate.
	TaskRebuilding      = "rebuilding"
	TaskRebuildSpawning = "rebuild_spawning"
	// Moving a server (migration.go). Live: migrating, carried out by the
	// source. Cold migration and resize: resize_prep while the scheduler
	// chooses, resize_migrating on the source (the stopped guest and its
	// disk go to the destination), resize_finish on the destination (the
	// new flavor, started if it ran), then vm_state resized (VERIFY_RESIZE)
	// until confirmed or reverted; a revert is resize_reverting on the
	// destination (its copy goes) then resize_revert_finish on the source
	// (the old guest comes back as it was).
	TaskMigrating          = "migrating"
	TaskResizePrep         = "resize_prep"
	TaskResizeMigrating    = "resize_migrating"
	TaskResizeFinish       = "resize_finish"
	TaskResizeReverting    = "resize_reverting"
	TaskResizeRevertFinish = "resize_revert_finish"
)

// VMResized is a server moved by a cold migration or resize that waits for
// its user to confirm or revert (Nova's vm_state resized, VERIFY_RESIZE).
const VMResized = "resized"

// HA policies: what happens to a server when its host goes down.
const (
	HARestart = "restart" // evacuated automatically (the default)
	HANone    = "none"    // stays on the dead host in ERROR until an operator acts
)

// PowerState is what the hypervisor reports (Nova's numbering).
type PowerState int

const (
	PowerNoState   PowerState = 0
	PowerRunning   PowerState = 1
	PowerPaused    PowerState = 3
	PowerShutdown  PowerState = 4
	PowerCrashed   PowerState = 6
	PowerSuspended PowerState = 7
)

// FlavorSpec is the flavor as it was when the instance was created; the
// instance keeps it even if the flavor is later deleted (as Nova does).
type FlavorSpec struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	VCPUs int    `json:"vcpus"`
	RAM   int    `json:"ram"`
	Disk  int    `json:"disk"`
}

// Fault is why an instance is in ERROR or why its last action failed.
type Fault struct {
	Code    int       `json:"code"`
	Message string    `json:"message"`
	Details string    `json:"details,omitempty"`
	Created time.Time `json:"created"`
}

// Address is a fixed IP on a network, with the MAC of the port that holds it.
type Address struct {
	Network string `json:"network"`
	IP      string `json:"ip"`
	MAC     string `json:"mac"`
}

// Action is one entry of an instance's action log (Nova's instance actions).
// UserID and ProjectID are who asked for it (the caller's token scope, as
// Nova records them); both are empty for the system's own actions and for
// entries logged before identity.
type Action struct {
	RequestID string    `json:"request_id"`
	Action    string    `json:"action"`
	UserID    string    `json:"user_id,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	Start     time.Time `json:"start_time"`
	Finish    time.Time `json:"finish_time,omitzero"`
	Result    string    `json:"result,omitempty"` // "" while running, then success|error
	Message   string    `json:"message,omitempty"`
}

// maxActions bounds an instance's action log; the oldest entries go first.
const maxActions = 50

// Instance is a server.
type Instance struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Flavor           FlavorSpec        `json:"flavor"`
	ImageID          string            `json:"image_id"`
	Host             string            `json:"host,omitempty"`
	VMState          string            `json:"vm_state"`
	TaskState        string            `json:"task_state,omitempty"`
	TaskIndex        uint64            `json:"task_index,omitempty"` // index of the entry that started the task
	PowerState       PowerState        `json:"power_state"`
	Fault            *Fault            `json:"fault,omitempty"`
	Addresses        []Address         `json:"addresses"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	ServerGroupID    string            `json:"server_group_id,omitempty"`
	// SecurityGroups are the IDs of the groups the server's port is in;
	// a server created without any is in its project's default group.
	SecurityGroups []string `json:"security_groups,omitempty"`
	ForceHost      string   `json:"force_host,omitempty"`
	HA             string   `json:"ha,omitempty"` // "" means HARestart
	// ProjectID and UserID own the server (set at creation, never changed);
	// both are empty for servers made before identity.
	ProjectID string `json:"project_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	// KeyName and KeyData are the keypair the server was created with and
	// its public key as it was then (Nova copies it: deleting the keypair
	// later does not change what the guest is told). UserData is base64
	// text as given; ConfigDrive asks for a config drive. All are set at
	// creation and never changed; the guest reads them through the
	// metadata service and the config drive.
	KeyName     string `json:"key_name,omitempty"`
	KeyData     string `json:"key_data,omitempty"`
	UserData    string `json:"user_data,omitempty"`
	ConfigDrive bool   `json:"config_drive,omitempty"`
	// Description and the access addresses are Nova's free fields: the
	// user sets them (at create or with UpdateInstance) and nothing else
	// reads them; the access addresses are not allocated, only recorded.
	Description string `json:"description,omitempty"`
	AccessIPv4  string `json:"access_ip_v4,omitempty"`
	AccessIPv6  string `json:"access_ip_v6,omitempty"`
	// Locked is Nova's lock: while it holds, only an admin may act on the
	// server (CheckLock). LockedBy is LockedByOwner or LockedByAdmin, which
	// decides who may unlock it; LockedReason is free text (Nova 2.73).
	Locked       bool   `json:"locked,omitempty"`
	LockedBy     string `json:"locked_by,omitempty"`
	LockedReason string `json:"locked_reason,omitempty"`
	// Tags are Nova's server tags (2.26), sorted, once each (NormalTags).
	Tags []string `json:"tags,omitempty"`
	// Hostname is the guest's hostname (Nova's OS-EXT-SRV-ATTR:hostname,
	// chosen at create, changed by 2.90's update); LaunchIndex is the
	// server's place among those one request created (0 for the first).
	Hostname    string `json:"hostname,omitempty"`
	LaunchIndex int    `json:"launch_index,omitempty"`
	// MigrationID is the migration moving the server now (State.Migrations),
	// 0 when none; MigrationPending says it waits for the scheduler to
	// choose its destination.
	MigrationID      uint64    `json:"migration_id,omitempty"`
	MigrationPending bool      `json:"migration_pending,omitempty"`
	Attempts         int       `json:"attempts,omitempty"` // placements rejected at commit
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	Actions          []Action  `json:"actions,omitempty"`
	Indexes
}

// Status is Nova's user-facing status, derived from vm_state and task_state.
func (i *Instance) Status() string {
	switch i.TaskState {
	case TaskRebuilding, TaskRebuildSpawning:
		return "REBUILD"
	case TaskMigrating:
		return "MIGRATING"
	case TaskResizePrep, TaskResizeMigrating, TaskResizeFinish:
		return "RESIZE"
	case TaskResizeReverting, TaskResizeRevertFinish:
		return "REVERT_RESIZE"
	}
	switch i.VMState {
	case VMBuilding:
		return "BUILD"
	case VMActive:
		switch i.TaskState {
		case TaskRebooting:
			return "REBOOT"
		case TaskRebootingHard:
			return "HARD_REBOOT"
		}
		return "ACTIVE"
	case VMStopped:
		return "SHUTOFF"
	case VMPaused:
		return "PAUSED"
	case VMSuspended:
		return "SUSPENDED"
	case VMError:
		return "ERROR"
	case VMDeleted:
		return "DELETED"
	case VMResized:
		return "VERIFY_RESIZE"
	}
	return "UNKNOWN"
}

// Pending reports whether the instance waits for the scheduler: a new
// server, an evacuated one, or a migration without a destination yet.
func (i *Instance) Pending() bool {
	return i.Host == "" && (i.VMState == VMBuilding && i.TaskState == TaskScheduling || i.TaskState == TaskRebuilding) ||
		i.MigrationPending
}

// Policy is the server's HA policy, with the default filled in.
func (i *Instance) Policy() string {
	if i.HA == "" {
		return HARestart
	}
	return i.HA
}

// claims reports whether the instance holds resources on its host. Stopped,
// paused and suspended servers keep their claim, as in Nova.
func (i *Instance) claims() bool {
	return i.Host != "" && i.VMState != VMDeleted
}

// Actor is who asks for an action: a user and the project its token is
// scoped to. The zero Actor is the system itself.
type Actor struct {
	UserID    string
	ProjectID string
}

func (i *Instance) startAction(requestID, action string, by Actor, t time.Time) {
	i.Actions = append(i.Actions, Action{RequestID: requestID, Action: action, UserID: by.UserID, ProjectID: by.ProjectID, Start: t})
	if len(i.Actions) > maxActions {
		i.Actions = append([]Action(nil), i.Actions[len(i.Actions)-maxActions:]...)
	}
}

// finishAction closes the newest open action (if any) with a result.
func (i *Instance) finishAction(result, message string, t time.Time) {
	for k := len(i.Actions) - 1; k >= 0; k-- {
		if i.Actions[k].Result == "" {
			i.Actions[k].Result, i.Actions[k].Message, i.Actions[k].Finish = result, message, t
			return
		}
	}
}

// Usage is what is claimed on a host by the instances placed there.
type Usage struct {
	VCPUs     int `json:"vcpus"`
	RAM       int `json:"ram"`
	Disk      int `json:"disk"`
	Instances int `json:"instances"`
}

func (u *Usage) add(f FlavorSpec, sign int) {
	u.VCPUs += sign * f.VCPUs
	u.RAM += sign * f.RAM
	u.Disk += sign * f.Disk
	u.Instances += sign
}
