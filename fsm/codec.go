package fsm

import (
	"encoding/json"
	"fmt"
)

// Type identifies a command in the log. The list is append-only: never reuse or
// renumber a value, old logs and snapshots must keep decoding.
type Type uint8

const (
	TypeBatch          Type = 1
	TypeBootstrap      Type = 2
	TypeRegisterHost   Type = 3
	TypeDeregisterHost Type = 4
	TypeSetHostEnabled Type = 5
	TypeCreateFlavor   Type = 6
	TypeDeleteFlavor   Type = 7

	TypeUpdateHostInventory Type = 8
	TypeCreateImage         Type = 9
	TypeDeleteImage         Type = 10
	TypeCreateServerGroup   Type = 11
	TypeDeleteServerGroup   Type = 12
	TypeCreateInstances     Type = 13
	TypeInstanceAction      Type = 14
	TypePlan                Type = 15
	TypeReportInstances     Type = 16
	TypeImageUploaded       Type = 17
	TypeRemoveImageLocation Type = 18
	TypeMarkHostDown        Type = 19
	TypeMarkHostUp          Type = 20
	TypeEvacuateInstances   Type = 21
	TypeForceHostDown       Type = 22
	TypeSetQuota            Type = 23

	TypeCreateProject     Type = 24
	TypeUpdateProject     Type = 25
	TypeDeleteProject     Type = 26
	TypeCreateUser        Type = 27
	TypeUpdateUser        Type = 28
	TypeDeleteUser        Type = 29
	TypeCreateRole        Type = 30
	TypeDeleteRole        Type = 31
	TypeGrantRole         Type = 32
	TypeRevokeRole        Type = 33
	TypePublishSigningKey Type = 34
	TypeRetireSigningKey  Type = 35
	TypeRevokeToken       Type = 36

	TypeCreateJoinToken  Type = 37
	TypeConsumeJoinToken Type = 38
	TypeRevokeJoinToken  Type = 39
	TypeRecordNodeCert   Type = 40
	TypeRevokeNodeCerts  Type = 41
	TypeInstallGossipKey Type = 42
	TypeUseGossipKey     Type = 43
	TypeRemoveGossipKey  Type = 44

	TypeCreateNetwork               Type = 45
	TypeDeleteNetwork               Type = 46
	TypeAllocateFloatingIP          Type = 47
	TypeReleaseFloatingIP           Type = 48
	TypeAssociateFloatingIP         Type = 49
	TypeDisassociateFloatingIP      Type = 50
	TypeCreateSecurityGroup         Type = 51
	TypeDeleteSecurityGroup         Type = 52
	TypeCreateSecurityGroupRule     Type = 53
	TypeDeleteSecurityGroupRule     Type = 54
	TypeAddInstanceSecurityGroup    Type = 55
	TypeRemoveInstanceSecurityGroup Type = 56

	TypeCreateKeyPair Type = 57
	TypeDeleteKeyPair Type = 58

	TypeUpdateInstance         Type = 59
	TypeUpdateInstanceMetadata Type = 60
	TypeLockInstance           Type = 61
	TypeUpdateFlavor           Type = 62
	TypeSetFlavorExtraSpecs    Type = 63
	TypeDeleteFlavorExtraSpec  Type = 64
	TypeAddFlavorAccess        Type = 65
	TypeRemoveFlavorAccess     Type = 66
	TypeUpdateImage            Type = 67
	TypeRebuildInstance        Type = 68
	TypeUpdateSecurityGroup    Type = 69

	TypeCreateAggregate     Type = 70
	TypeUpdateAggregate     Type = 71
	TypeDeleteAggregate     Type = 72
	TypeAddAggregateHost    Type = 73
	TypeRemoveAggregateHost Type = 74

	TypeAddInstanceTag    Type = 77
	TypeDeleteInstanceTag Type = 78
	TypeSetInstanceTags   Type = 79

	TypeSetQuotaClass Type = 83

	TypeMigrateInstance Type = 86
	TypeResizeDecision  Type = 87
	TypeDrainHost       Type = 88
)

// Command is one state change. Concrete commands are plain structs; everything
// they need (IDs, times) is filled in before they reach the log.
type Command interface {
	Type() Type
}

// handler is one row of the command table.
type handler struct {
	name  string
	new   func() Command
	apply func(s *State, index uint64, c Command) error
}

// registry maps every command type to its decoder and apply function. Commands
// register here, not in a switch.
var registry = map[Type]handler{
	TypeBootstrap:      {"bootstrap", func() Command { return &Bootstrap{} }, applyBootstrap},
	TypeRegisterHost:   {"register-host", func() Command { return &RegisterHost{} }, applyRegisterHost},
	TypeDeregisterHost: {"deregister-host", func() Command { return &DeregisterHost{} }, applyDeregisterHost},
	TypeSetHostEnabled: {"set-host-enabled", func() Command { return &SetHostEnabled{} }, applySetHostEnabled},
	TypeCreateFlavor:   {"create-flavor", func() Command { return &CreateFlavor{} }, applyCreateFlavor},
	TypeDeleteFlavor:   {"delete-flavor", func() Command { return &DeleteFlavor{} }, applyDeleteFlavor},

	TypeUpdateHostInventory: {"update-host-inventory", func() Command { return &UpdateHostInventory{} }, applyUpdateHostInventory},
	TypeCreateImage:         {"create-image", func() Command { return &CreateImage{} }, applyCreateImage},
	TypeDeleteImage:         {"delete-image", func() Command { return &DeleteImage{} }, applyDeleteImage},
	TypeCreateServerGroup:   {"create-server-group", func() Command { return &CreateServerGroup{} }, applyCreateServerGroup},
	TypeDeleteServerGroup:   {"delete-server-group", func() Command { return &DeleteServerGroup{} }, applyDeleteServerGroup},
	TypeCreateInstances:     {"create-instances", func() Command { return &CreateInstances{} }, applyCreateInstances},
	TypeInstanceAction:      {"instance-action", func() Command { return &InstanceAction{} }, applyInstanceAction},
	TypePlan:                {"plan", func() Command { return &Plan{} }, applyPlan},
	TypeReportInstances:     {"report-instances", func() Command { return &ReportInstances{} }, applyReportInstances},
	TypeImageUploaded:       {"image-uploaded", func() Command { return &ImageUploaded{} }, applyImageUploaded},
	TypeRemoveImageLocation: {"remove-image-location", func() Command { return &RemoveImageLocation{} }, applyRemoveImageLocation},
	TypeMarkHostDown:        {"mark-host-down", func() Command { return &MarkHostDown{} }, applyMarkHostDown},
	TypeMarkHostUp:          {"mark-host-up", func() Command { return &MarkHostUp{} }, applyMarkHostUp},
	TypeEvacuateInstances:   {"evacuate-instances", func() Command { return &EvacuateInstances{} }, applyEvacuateInstances},
	TypeForceHostDown:       {"force-host-down", func() Command { return &ForceHostDown{} }, applyForceHostDown},
	TypeSetQuota:            {"set-quota", func() Command { return &SetQuota{} }, applySetQuota},

	TypeCreateProject:     {"create-project", func() Command { return &CreateProject{} }, applyCreateProject},
	TypeUpdateProject:     {"update-project", func() Command { return &UpdateProject{} }, applyUpdateProject},
	TypeDeleteProject:     {"delete-project", func() Command { return &DeleteProject{} }, applyDeleteProject},
	TypeCreateUser:        {"create-user", func() Command { return &CreateUser{} }, applyCreateUser},
	TypeUpdateUser:        {"update-user", func() Command { return &UpdateUser{} }, applyUpdateUser},
	TypeDeleteUser:        {"delete-user", func() Command { return &DeleteUser{} }, applyDeleteUser},
	TypeCreateRole:        {"create-role", func() Command { return &CreateRole{} }, applyCreateRole},
	TypeDeleteRole:        {"delete-role", func() Command { return &DeleteRole{} }, applyDeleteRole},
	TypeGrantRole:         {"grant-role", func() Command { return &GrantRole{} }, applyGrantRole},
	TypeRevokeRole:        {"revoke-role", func() Command { return &RevokeRole{} }, applyRevokeRole},
	TypePublishSigningKey: {"publish-signing-key", func() Command { return &PublishSigningKey{} }, applyPublishSigningKey},
	TypeRetireSigningKey:  {"retire-signing-key", func() Command { return &RetireSigningKey{} }, applyRetireSigningKey},
	TypeRevokeToken:       {"revoke-token", func() Command { return &RevokeToken{} }, applyRevokeToken},

	TypeCreateJoinToken:  {"create-join-token", func() Command { return &CreateJoinToken{} }, applyCreateJoinToken},
	TypeConsumeJoinToken: {"consume-join-token", func() Command { return &ConsumeJoinToken{} }, applyConsumeJoinToken},
	TypeRevokeJoinToken:  {"revoke-join-token", func() Command { return &RevokeJoinToken{} }, applyRevokeJoinToken},
	TypeRecordNodeCert:   {"record-node-cert", func() Command { return &RecordNodeCert{} }, applyRecordNodeCert},
	TypeRevokeNodeCerts:  {"revoke-node-certs", func() Command { return &RevokeNodeCerts{} }, applyRevokeNodeCerts},
	TypeInstallGossipKey: {"install-gossip-key", func() Command { return &InstallGossipKey{} }, applyInstallGossipKey},
	TypeUseGossipKey:     {"use-gossip-key", func() Command { return &UseGossipKey{} }, applyUseGossipKey},
	TypeRemoveGossipKey:  {"remove-gossip-key", func() Command { return &RemoveGossipKey{} }, applyRemoveGossipKey},

	TypeCreateNetwork:               {"create-network", func() Command { return &CreateNetwork{} }, applyCreateNetwork},
	TypeDeleteNetwork:               {"delete-network", func() Command { return &DeleteNetwork{} }, applyDeleteNetwork},
	TypeAllocateFloatingIP:          {"allocate-floating-ip", func() Command { return &AllocateFloatingIP{} }, applyAllocateFloatingIP},
	TypeReleaseFloatingIP:           {"release-floating-ip", func() Command { return &ReleaseFloatingIP{} }, applyReleaseFloatingIP},
	TypeAssociateFloatingIP:         {"associate-floating-ip", func() Command { return &AssociateFloatingIP{} }, applyAssociateFloatingIP},
	TypeDisassociateFloatingIP:      {"disassociate-floating-ip", func() Command { return &DisassociateFloatingIP{} }, applyDisassociateFloatingIP},
	TypeCreateSecurityGroup:         {"create-security-group", func() Command { return &CreateSecurityGroup{} }, applyCreateSecurityGroup},
	TypeDeleteSecurityGroup:         {"delete-security-group", func() Command { return &DeleteSecurityGroup{} }, applyDeleteSecurityGroup},
	TypeCreateSecurityGroupRule:     {"create-security-group-rule", func() Command { return &CreateSecurityGroupRule{} }, applyCreateSecurityGroupRule},
	TypeDeleteSecurityGroupRule:     {"delete-security-group-rule", func() Command { return &DeleteSecurityGroupRule{} }, applyDeleteSecurityGroupRule},
	TypeAddInstanceSecurityGroup:    {"add-instance-security-group", func() Command { return &AddInstanceSecurityGroup{} }, applyAddInstanceSecurityGroup},
	TypeRemoveInstanceSecurityGroup: {"remove-instance-security-group", func() Command { return &RemoveInstanceSecurityGroup{} }, applyRemoveInstanceSecurityGroup},

	TypeCreateKeyPair: {"create-keypair", func() Command { return &CreateKeyPair{} }, applyCreateKeyPair},
	TypeDeleteKeyPair: {"delete-keypair", func() Command { return &DeleteKeyPair{} }, applyDeleteKeyPair},

	TypeUpdateInstance:         {"update-instance", func() Command { return &UpdateInstance{} }, applyUpdateInstance},
	TypeUpdateInstanceMetadata: {"update-instance-metadata", func() Command { return &UpdateInstanceMetadata{} }, applyUpdateInstanceMetadata},
	TypeLockInstance:           {"lock-instance", func() Command { return &LockInstance{} }, applyLockInstance},
	TypeUpdateFlavor:           {"update-flavor", func() Command { return &UpdateFlavor{} }, applyUpdateFlavor},
	TypeSetFlavorExtraSpecs:    {"set-flavor-extra-specs", func() Command { return &SetFlavorExtraSpecs{} }, applySetFlavorExtraSpecs},
	TypeDeleteFlavorExtraSpec:  {"delete-flavor-extra-spec", func() Command { return &DeleteFlavorExtraSpec{} }, applyDeleteFlavorExtraSpec},
	TypeAddFlavorAccess:        {"add-flavor-access", func() Command { return &AddFlavorAccess{} }, applyAddFlavorAccess},
	TypeRemoveFlavorAccess:     {"remove-flavor-access", func() Command { return &RemoveFlavorAccess{} }, applyRemoveFlavorAccess},
	TypeUpdateImage:            {"update-image", func() Command { return &UpdateImage{} }, applyUpdateImage},
	TypeRebuildInstance:        {"rebuild-instance", func() Command { return &RebuildInstance{} }, applyRebuildInstance},
	TypeUpdateSecurityGroup:    {"update-security-group", func() Command { return &UpdateSecurityGroup{} }, applyUpdateSecurityGroup},
	TypeCreateAggregate:        {"create-aggregate", func() Command { return &CreateAggregate{} }, applyCreateAggregate},
	TypeUpdateAggregate:        {"update-aggregate", func() Command { return &UpdateAggregate{} }, applyUpdateAggregate},
	TypeDeleteAggregate:        {"delete-aggregate", func() Command { return &DeleteAggregate{} }, applyDeleteAggregate},
	TypeAddAggregateHost:       {"add-aggregate-host", func() Command { return &AddAggregateHost{} }, applyAddAggregateHost},
	TypeRemoveAggregateHost:    {"remove-aggregate-host", func() Command { return &RemoveAggregateHost{} }, applyRemoveAggregateHost},
	TypeSetQuotaClass:          {"set-quota-class", func() Command { return &SetQuotaClass{} }, applySetQuotaClass},
	TypeAddInstanceTag:         {"add-instance-tag", func() Command { return &AddInstanceTag{} }, applyAddInstanceTag},
	TypeDeleteInstanceTag:      {"delete-instance-tag", func() Command { return &DeleteInstanceTag{} }, applyDeleteInstanceTag},
	TypeSetInstanceTags:        {"set-instance-tags", func() Command { return &SetInstanceTags{} }, applySetInstanceTags},
	TypeMigrateInstance:        {"migrate-instance", func() Command { return &MigrateInstance{} }, applyMigrateInstance},
	TypeResizeDecision:         {"resize-decision", func() Command { return &ResizeDecision{} }, applyResizeDecision},
	TypeDrainHost:              {"drain-host", func() Command { return &DrainHost{} }, applyDrainHost},
}

// MaxEntrySize is the largest encoded command a write may carry. A
// follower forwards its writes to the leader as one HTTP body, which the
// leader reads up to this size, so the cluster refuses anything larger
// whichever node takes it (the same answer from leader and follower), and
// a producer of big commands (a server create: boot data times count)
// checks it before proposing, with a message its caller can act on.
const MaxEntrySize = 8 << 20

// Encode turns a command into a log entry: one type byte, then JSON.
func Encode(c Command) ([]byte, error) {
	if c.Type() != TypeBatch {
		if _, ok := registry[c.Type()]; !ok {
			return nil, fmt.Errorf("fsm: encode: unknown command type %d", c.Type())
		}
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("fsm: encode %T: %w", c, err)
	}
	return append([]byte{byte(c.Type())}, payload...), nil
}

// Decode turns a log entry back into a command.
func Decode(b []byte) (Command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("fsm: decode: empty entry")
	}
	t := Type(b[0])
	var c Command
	if t == TypeBatch {
		c = &Batch{}
	} else {
		h, ok := registry[t]
		if !ok {
			return nil, fmt.Errorf("fsm: decode: unknown command type %d", t)
		}
		c = h.new()
	}
	if err := json.Unmarshal(b[1:], c); err != nil {
		return nil, fmt.Errorf("fsm: decode type %d: %w", t, err)
	}
	if bt, ok := c.(*Batch); ok {
		for i, e := range bt.Entries {
			if len(e) == 0 || Type(e[0]) == TypeBatch {
				return nil, fmt.Errorf("fsm: decode: batch entry %d is empty or nested", i)
			}
			// A batch that decodes must apply without panicking: the leader
			// relies on Decode to keep poison entries out of the log.
			if _, err := Decode(e); err != nil {
				return nil, fmt.Errorf("fsm: decode: batch entry %d: %w", i, err)
			}
		}
	}
	return c, nil
}

// String is a command type's name, for logs and errors.
func (t Type) String() string {
	if t == TypeBatch {
		return "batch"
	}
	if h, ok := registry[t]; ok {
		return h.name
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Batch carries several encoded commands in one log entry (group commit).
type Batch struct {
	Entries [][]byte `json:"entries"`
}

func (*Batch) Type() Type { return TypeBatch }

// BatchResult is what Apply returns for a Batch: one error (or nil) per entry.
type BatchResult struct {
	Errors []error
}
