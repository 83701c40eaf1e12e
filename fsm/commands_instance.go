package fsm

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// NewInstance is one server to create. The proposing node stamps the ID.
type NewInstance struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	FlavorID         string            `json:"flavor_id"`
	ImageID          string            `json:"image_id"`
	AvailabilityZone string            `json:"availability_zone,omitempty"`
	ForceHost        string            `json:"force_host,omitempty"`
	ServerGroupID    string            `json:"server_group_id,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
	HA               string            `json:"ha,omitempty"` // restart (default) or none
	// SecurityGroups are group IDs (the API resolves names) of the
	// request's project; none means its default group.
	SecurityGroups []string `json:"security_groups,omitempty"`
	// KeyName and KeyData: the creating user's keypair and its public key,
	// copied by the API (both or neither). UserData is base64 text
	// (ValidUserData). See Instance.
	KeyName     string `json:"key_name,omitempty"`
	KeyData     string `json:"key_data,omitempty"`
	UserData    string `json:"user_data,omitempty"`
	ConfigDrive bool   `json:"config_drive,omitempty"`
	// Description and the access addresses: see Instance (and
	// UpdateInstance for their rules).
	Description string `json:"description,omitempty"`
	AccessIPv4  string `json:"access_ip_v4,omitempty"`
	AccessIPv6  string `json:"access_ip_v6,omitempty"`
	// Tags, Hostname and LaunchIndex: see Instance.
	Tags        []string `json:"tags,omitempty"`
	Hostname    string   `json:"hostname,omitempty"`
	LaunchIndex int      `json:"launch_index,omitempty"`
}

// CreateInstances creates servers, all or none: each gets a fixed IP and a
// MAC on the default network, its security groups (its project's default
// group when it names none, stored here on its first use) and waits for the
// scheduler (BUILD/scheduling).
// The servers of a request with a ProjectID belong to it (and to UserID) and
// count against its quota, checked here, in Apply, so that creates proposed
// at once on different nodes cannot exceed it together.
// Admin says the caller is an admin, who may use private flavors its
// project has no access to (Flavor.VisibleTo).
type CreateInstances struct {
	RequestID string        `json:"request_id"`
	Time      time.Time     `json:"time"`
	ProjectID string        `json:"project_id,omitempty"`
	UserID    string        `json:"user_id,omitempty"`
	Admin     bool          `json:"admin,omitempty"`
	Instances []NewInstance `json:"instances"`
}

// Instance actions (Nova's server actions).
const (
	ActionStart      = "start"
	ActionStop       = "stop"
	ActionReboot     = "reboot"
	ActionPause      = "pause"
	ActionUnpause    = "unpause"
	ActionSuspend    = "suspend"
	ActionResume     = "resume"
	ActionDelete     = "delete"
	ActionResetState = "reset-state"
)

// InstanceAction asks for a state change of one server. UserID and
// ProjectID are who asks (the action log records them); entries logged
// before identity have neither. Admin says that caller is an admin, who
// may act on a locked server (Instance.CheckLock).
type InstanceAction struct {
	ID        string    `json:"id"`
	Action    string    `json:"action"`
	Hard      bool      `json:"hard,omitempty"`  // reboot
	State     string    `json:"state,omitempty"` // reset-state: active|error
	RequestID string    `json:"request_id"`
	UserID    string    `json:"user_id,omitempty"`
	ProjectID string    `json:"project_id,omitempty"`
	Admin     bool      `json:"admin,omitempty"`
	Time      time.Time `json:"time"`
}

func (c *InstanceAction) actor() Actor { return Actor{UserID: c.UserID, ProjectID: c.ProjectID} }

func (*CreateInstances) Type() Type { return TypeCreateInstances }
func (*InstanceAction) Type() Type  { return TypeInstanceAction }

func applyCreateInstances(s *State, index uint64, c Command) error {
	cmd := c.(*CreateInstances)
	if len(cmd.Instances) == 0 {
		return fmt.Errorf("%w: no servers to create", ErrInvalid)
	}
	if s.Network == nil {
		return fmt.Errorf("%w: the cluster has no network for fixed IPs", ErrConflict)
	}
	built := make([]*Instance, 0, len(cmd.Instances))
	seen := map[string]bool{}
	for _, n := range cmd.Instances {
		inst, err := s.newInstance(n, cmd)
		if err != nil {
			return err
		}
		if seen[n.ID] {
			return fmt.Errorf("%w: server ID %q given twice", ErrInvalid, n.ID)
		}
		seen[n.ID] = true
		built = append(built, inst)
	}
	if err := s.checkCreateQuota(cmd.ProjectID, built); err != nil {
		return err
	}
	// Allocate every address before changing anything, so exhaustion fails
	// the whole request cleanly.
	var got []string
	cursor := s.Network.Cursor
	for _, inst := range built {
		ip, err := s.Network.allocate(inst.ID)
		if err != nil {
			for k, prev := range got {
				s.Network.release(prev, built[k].ID)
			}
			// release lowers the cursor only to the lowest address it frees,
			// which can be above where it was: put it back exactly.
			s.Network.Cursor = cursor
			return err
		}
		got = append(got, ip)
	}
	for k, inst := range built {
		mac := deriveMAC(inst.ID, s.macs)
		s.macs[mac] = true
		inst.Addresses = []Address{{Network: s.Network.Name, IP: got[k], MAC: mac}}
		inst.CreateIndex, inst.ModifyIndex, inst.TaskIndex = index, index, index
		for _, g := range inst.SecurityGroups {
			s.ensureDefaultIfNamed(cmd.ProjectID, g, cmd.Time, index)
		}
		s.Instances[inst.ID] = inst
		if g, ok := s.Groups[inst.ServerGroupID]; ok {
			g.Members = append(g.Members, inst.ID)
			g.ModifyIndex = index
		}
	}
	for _, inst := range built {
		s.track(inst)
	}
	return nil
}

// newInstance checks one requested server against the state and builds it.
func (s *State) newInstance(n NewInstance, cmd *CreateInstances) (*Instance, error) {
	switch {
	case n.ID == "":
		return nil, fmt.Errorf("%w: server ID is empty", ErrInvalid)
	case n.Name == "":
		return nil, fmt.Errorf("%w: server name is empty", ErrInvalid)
	}
	if _, ok := s.Instances[n.ID]; ok {
		return nil, fmt.Errorf("%w: server ID %q already exists", ErrConflict, n.ID)
	}
	f, ok := s.Flavors[n.FlavorID]
	if !ok || !cmd.Admin && cmd.ProjectID != "" && !f.VisibleTo(cmd.ProjectID) {
		return nil, fmt.Errorf("%w: flavor %q", ErrNotFound, n.FlavorID)
	}
	img, ok := s.Images[n.ImageID]
	if !ok {
		return nil, fmt.Errorf("%w: image %q", ErrNotFound, n.ImageID)
	}
	if img.Status != "active" {
		return nil, fmt.Errorf("%w: image %s is %s, not active", ErrConflict, img.ID, img.Status)
	}
	if n.HA != "" && n.HA != HARestart && n.HA != HANone {
		return nil, fmt.Errorf("%w: ha must be %s or %s, not %q", ErrInvalid, HARestart, HANone, n.HA)
	}
	if err := validBootData(n); err != nil {
		return nil, err
	}
	if err := validServerText(n); err != nil {
		return nil, err
	}
	tags, err := NormalTags(n.Tags)
	if err != nil {
		return nil, err
	}
	if err := s.checkMetadataQuota(cmd.ProjectID, len(n.Metadata)); err != nil {
		return nil, err
	}
	if n.ServerGroupID != "" {
		if _, ok := s.Groups[n.ServerGroupID]; !ok {
			return nil, fmt.Errorf("%w: server group %q", ErrNotFound, n.ServerGroupID)
		}
	}
	groups := []string{DefaultSecurityGroupID(cmd.ProjectID)}
	if len(n.SecurityGroups) > 0 {
		groups = nil
		for _, g := range n.SecurityGroups {
			if slices.Contains(groups, g) {
				continue // Nova takes a group named twice once
			}
			if err := s.checkInstanceGroup(cmd.ProjectID, g); err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
	}
	inst := &Instance{
		ID: n.ID, Name: n.Name, ImageID: n.ImageID,
		Flavor:  FlavorSpec{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk},
		VMState: VMBuilding, TaskState: TaskScheduling, PowerState: PowerNoState,
		Metadata: maps.Clone(n.Metadata), AvailabilityZone: n.AvailabilityZone,
		ServerGroupID: n.ServerGroupID, SecurityGroups: groups, ForceHost: n.ForceHost, HA: n.HA,
		ProjectID: cmd.ProjectID, UserID: cmd.UserID,
		KeyName: n.KeyName, KeyData: n.KeyData, UserData: n.UserData, ConfigDrive: n.ConfigDrive,
		Description: n.Description, AccessIPv4: n.AccessIPv4, AccessIPv6: n.AccessIPv6,
		Tags: tags, Hostname: n.Hostname, LaunchIndex: n.LaunchIndex,
		Created: cmd.Time, Updated: cmd.Time,
	}
	inst.startAction(cmd.RequestID, "create", Actor{UserID: cmd.UserID, ProjectID: cmd.ProjectID}, cmd.Time)
	return inst, nil
}

// transition is what an action needs and what it starts.
type transition struct {
	from []string // vm_states it is allowed from (task_state must be none)
	task string
	verb string // what the refusal says the action needs
}

var transitions = map[string]transition{
	ActionStart:   {[]string{VMStopped}, TaskPoweringOn, "SHUTOFF"},
	ActionStop:    {[]string{VMActive, VMPaused, VMSuspended, VMError}, TaskPoweringOff, "ACTIVE, PAUSED, SUSPENDED or ERROR"},
	ActionPause:   {[]string{VMActive}, TaskPausing, "ACTIVE"},
	ActionUnpause: {[]string{VMPaused}, TaskUnpausing, "PAUSED"},
	ActionSuspend: {[]string{VMActive}, TaskSuspending, "ACTIVE"},
	ActionResume:  {[]string{VMSuspended}, TaskResuming, "SUSPENDED"},
}

var (
	softReboot = transition{[]string{VMActive}, TaskRebooting, "ACTIVE"}
	hardReboot = transition{[]string{VMActive, VMStopped, VMPaused, VMSuspended, VMError}, TaskRebootingHard,
		"ACTIVE, SHUTOFF, PAUSED, SUSPENDED or ERROR"}
)

func applyInstanceAction(s *State, index uint64, c Command) error {
	cmd := c.(*InstanceAction)
	inst, ok := s.Instances[cmd.ID]
	if !ok {
		return fmt.Errorf("%w: server %q", ErrNotFound, cmd.ID)
	}
	if err := inst.CheckLock(cmd.Admin); err != nil {
		return err
	}
	switch cmd.Action {
	case ActionDelete:
		return s.deleteInstance(inst, cmd, index)
	case ActionResetState:
		return s.resetState(inst, cmd, index)
	}
	tr, ok := transitions[cmd.Action]
	if cmd.Action == ActionReboot {
		tr, ok = softReboot, true
		if cmd.Hard {
			tr = hardReboot
		}
	}
	if !ok {
		return fmt.Errorf("%w: unknown action %q", ErrInvalid, cmd.Action)
	}
	if inst.TaskState != TaskNone {
		return fmt.Errorf("%w: cannot %s server %s while it is busy (task_state %s)", ErrConflict, cmd.Action, inst.ID, inst.TaskState)
	}
	if !slices.Contains(tr.from, inst.VMState) {
		return fmt.Errorf("%w: cannot %s server %s while it is %s (vm_state %s); %s needs %s",
			ErrConflict, cmd.Action, inst.ID, inst.Status(), inst.VMState, cmd.Action, tr.verb)
	}
	if inst.Host == "" {
		return fmt.Errorf("%w: cannot %s server %s: it has no host (it was never placed)", ErrConflict, cmd.Action, inst.ID)
	}
	s.untrack(inst)
	inst.TaskState, inst.TaskIndex = tr.task, index
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	inst.startAction(cmd.RequestID, actionName(cmd), cmd.actor(), cmd.Time)
	s.track(inst)
	return nil
}

func actionName(cmd *InstanceAction) string {
	if cmd.Action == ActionReboot && cmd.Hard {
		return "reboot (hard)"
	}
	return cmd.Action
}

// deleteInstance removes a server that never reached a host at once; one on
// a host is marked deleting and removed when the host reports it destroyed.
func (s *State) deleteInstance(inst *Instance, cmd *InstanceAction, index uint64) error {
	if inst.TaskState == TaskDeleting {
		return fmt.Errorf("%w: server %s is already being deleted", ErrConflict, inst.ID)
	}
	if movingTasks[inst.TaskState] && !inst.MigrationPending {
		return fmt.Errorf("%w: cannot delete server %s while it moves (task_state %s); wait for the migration to end",
			ErrConflict, inst.ID, inst.TaskState)
	}
	if inst.Host == "" {
		inst.startAction(cmd.RequestID, ActionDelete, cmd.actor(), cmd.Time)
		s.removeInstance(inst, index, cmd.Time)
		return nil
	}
	s.untrack(inst)
	s.endMigration(inst, MigrationError, "the server was deleted", cmd.Time, index)
	inst.TaskState, inst.TaskIndex = TaskDeleting, index
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	inst.startAction(cmd.RequestID, ActionDelete, cmd.actor(), cmd.Time)
	s.track(inst)
	return nil
}

func (s *State) resetState(inst *Instance, cmd *InstanceAction, index uint64) error {
	var vm string
	switch cmd.State {
	case "active":
		vm = VMActive
	case "error":
		vm = VMError
	default:
		return fmt.Errorf("%w: reset-state takes state active or error, not %q", ErrInvalid, cmd.State)
	}
	if vm == VMActive && inst.Host == "" {
		return fmt.Errorf("%w: server %s has no host; it cannot be reset to active", ErrConflict, inst.ID)
	}
	s.untrack(inst)
	s.endMigration(inst, MigrationError, "interrupted by reset-state", cmd.Time, index)
	inst.VMState, inst.TaskState, inst.TaskIndex = vm, TaskNone, 0
	inst.Updated, inst.ModifyIndex = cmd.Time, index
	inst.finishAction("error", "interrupted by reset-state", cmd.Time)
	inst.startAction(cmd.RequestID, ActionResetState+" "+cmd.State, cmd.actor(), cmd.Time)
	inst.finishAction("success", "", cmd.Time)
	s.track(inst)
	return nil
}

// removeInstance forgets a server: claim, pending mark, IP, MAC, group;
// its floating IPs are detached at index and stay with its project. What
// is left of it goes on the record of deleted servers, gone at time at.
func (s *State) removeInstance(inst *Instance, index uint64, at time.Time) {
	s.untrack(inst)
	s.endMigration(inst, MigrationError, "the server was deleted", at, index)
	s.unqueue(inst.ID)
	for _, a := range inst.Addresses {
		if s.Network != nil && a.Network == s.Network.Name {
			s.Network.release(a.IP, inst.ID)
		}
		delete(s.macs, a.MAC)
	}
	s.removeMember(inst)
	s.disassociateFrom(inst.ID, index)
	delete(s.Instances, inst.ID)
	s.bury(inst, index, at)
}
