package fsm_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// everyCommand has one command of each type, with every field set.
func everyCommand(t testing.TB) []fsm.Command {
	t.Helper()
	return []fsm.Command{
		&fsm.Bootstrap{ClusterID: "c1", Time: t0, Flavors: fsm.DefaultFlavors()},
		registerHost("h1", t0),
		&fsm.DeregisterHost{Name: "h1"},
		&fsm.SetHostEnabled{Name: "h1", Enabled: false, Reason: "maintenance", Time: t1},
		&fsm.CreateFlavor{Flavor: withIndexes(privateFlavor("f-big", "p1"), 3, 4)},
		&fsm.DeleteFlavor{ID: "f-big"},
		batchOf(t, registerHost("h2", t2), &fsm.DeleteFlavor{ID: "1"}),
		inventory("h1", 8, 16384, 100),
		&fsm.CreateImage{Image: func() fsm.Image {
			img := withImageIndexes(ownedImage("img-1", "p1", fsm.ImageShared), 5, 6)
			img.MD5, img.Protected, img.Tags = md5A, true, []string{"base"}
			return img
		}()},
		&fsm.DeleteImage{ID: "img-1"},
		&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g1", Name: "web", Policy: fsm.PolicyAntiAffinity, MaxServerPerHost: 2,
			Members: []string{"i-1"}, ProjectID: "p1", UserID: "u1", Created: t1, Indexes: fsm.Indexes{CreateIndex: 7, ModifyIndex: 8}}},
		&fsm.DeleteServerGroup{ID: "g1"},
		&fsm.CreateInstances{RequestID: "req-1", Time: t1, ProjectID: "p1", UserID: "u1", Admin: true, Instances: []fsm.NewInstance{
			{ID: "i-1", Name: "web-1", FlavorID: "1", ImageID: "img-1", AvailabilityZone: "nova",
				ForceHost: "h1", ServerGroupID: "g1", Metadata: map[string]string{"role": "web", "tier": "1"},
				SecurityGroups: []string{"sg1", "sg2"}, KeyName: "laptop", KeyData: sshKeyA, UserData: script, ConfigDrive: true,
				Description: "d", AccessIPv4: "192.0.2.1", AccessIPv6: "2001:db8::1"},
			server("i-2"),
		}},
		&fsm.InstanceAction{ID: "i-1", Action: fsm.ActionReboot, Hard: true, State: "error", RequestID: "req-2",
			UserID: "u1", ProjectID: "p1", Admin: true, Time: t2},
		&fsm.Plan{Time: t2, RequestID: "plan-1", Ratios: fsm.Ratios{CPU: 16, RAM: 1.5, Disk: 0.9}, MaxAttempts: 3,
			Placements: []fsm.Placement{{InstanceID: "i-1", Host: "h1"}, {InstanceID: "i-2", Host: "h2"}},
			Failures:   []fsm.PlanFailure{{InstanceID: "i-3", Reason: fsm.NoValidHost}}},
		&fsm.ReportInstances{Host: "h1", Time: t2, Reports: []fsm.InstanceReport{
			{ID: "i-1", PowerState: fsm.PowerRunning, Done: fsm.TaskSpawning},
			{ID: "i-2", PowerState: fsm.PowerCrashed, Done: fsm.TaskRebootingHard, Error: "boom"},
		}},
		&fsm.ImageUploaded{ID: "img-1", Node: "h1", Size: 1 << 20, Checksum: sumA, MD5: md5A, DiskFormat: "qcow2", Time: t2},
		&fsm.RemoveImageLocation{ID: "img-1", Node: "h1", Time: t2},
		&fsm.SetQuota{ProjectID: "p1", Quota: fsm.QuotaOverride{Instances: ptr(-1), Cores: ptr(0), RAM: ptr(1024),
			ServerGroups: ptr(2), ServerGroupMembers: ptr(3), KeyPairs: ptr(4), FloatingIPs: ptr(5), MetadataItems: ptr(6),
			FixedIPs: ptr(7), InjectedFiles: ptr(8), InjectedFileContentBytes: ptr(9), InjectedFilePathBytes: ptr(10),
			SecurityGroups: ptr(11), SecurityGroupRules: ptr(12)}},
		bootstrapIdentity(),
		&fsm.CreateProject{Project: fsm.Project{ID: "p1", Name: "web", DomainID: "default", Description: "d", Enabled: true, Created: t1,
			Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.UpdateProject{ID: "p1", Name: ptr("www"), Description: ptr(""), Enabled: ptr(false)},
		&fsm.DeleteProject{ID: "p1"},
		&fsm.CreateUser{User: fsm.User{ID: "u1", Name: "alice", DomainID: "default", Enabled: true, DefaultProjectID: "p1",
			PasswordHash: hashSecret, TokensValidAfter: t1, Created: t0, Updated: t1, Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.UpdateUser{ID: "u1", Name: ptr("al"), Enabled: ptr(false), DefaultProjectID: ptr(""), PasswordHash: ptr(hashOther), Time: t2},
		&fsm.DeleteUser{ID: "u1"},
		&fsm.CreateRole{Role: fsm.Role{ID: "r1", Name: "operator", Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.DeleteRole{ID: "r1"},
		&fsm.GrantRole{RoleAssignment: assign("p1", "u1", "r1")},
		&fsm.RevokeRole{RoleAssignment: assign("p1", "u1", "r1")},
		&fsm.PublishSigningKey{Key: fsm.SigningKey{ID: "k1", Host: "h1", PublicKey: publicKey(1), Created: t0, Retired: t1,
			Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.RetireSigningKey{ID: "k1", Time: t2},
		&fsm.RevokeToken{AuditID: "a1", ExpiresAt: t2, Time: t1},
		&fsm.CreateJoinToken{ID: "t1", SecretHash: secretA, CreatedAt: t0, ExpiresAt: t2, MaxUses: 3, CreatedBy: "u1"},
		&fsm.ConsumeJoinToken{ID: "t1", SecretHash: secretA, Node: "h2", Now: t1},
		&fsm.RevokeJoinToken{ID: "t1"},
		&fsm.RecordNodeCert{Serial: "0a1b", Node: "h2", NotAfter: t2, Now: t1},
		&fsm.RevokeNodeCerts{Node: "h2"},
		&fsm.InstallGossipKey{ID: keyA, Sealed: sealedA},
		&fsm.UseGossipKey{ID: keyA},
		&fsm.RemoveGossipKey{ID: keyB},
		&fsm.CreateNetwork{ID: "n1", Name: "public", CIDR: "10.66.0.0/24", Gateway: "10.66.0.1", External: true,
			AllocationPools: []fsm.IPRange{{Start: "10.66.0.200", End: "10.66.0.240"}}, ProjectID: "p1", Time: t1},
		&fsm.DeleteNetwork{ID: "n1"},
		&fsm.AllocateFloatingIP{ID: "fip1", NetworkID: "n1", IP: "10.66.0.200", ProjectID: "p1", UserID: "u1", Time: t1},
		&fsm.ReleaseFloatingIP{ID: "fip1"},
		&fsm.AssociateFloatingIP{FloatingIPID: "fip1", InstanceID: "i-1", FixedIP: "10.88.0.2", CrossProject: true},
		&fsm.DisassociateFloatingIP{FloatingIPID: "fip1", InstanceID: "i-1"},
		&fsm.CreateSecurityGroup{Group: fsm.SecurityGroup{ID: "sg1", Name: "web", Description: "d", ProjectID: "p1", UserID: "u1",
			Rules: []fsm.SecurityGroupRule{{ID: "r1", GroupID: "sg1", Direction: fsm.DirectionIngress, Ethertype: fsm.EthertypeIPv4,
				Protocol: fsm.ProtocolTCP, PortMin: ptr(80), PortMax: ptr(443), RemoteIPPrefix: "10.0.0.0/8", ProjectID: "p1", Created: t1}},
			Created: t1, Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.DeleteSecurityGroup{ID: "sg1", ProjectID: "p1"},
		&fsm.CreateSecurityGroupRule{Rule: fsm.SecurityGroupRule{ID: "r2", GroupID: "sg1", Direction: fsm.DirectionEgress,
			Ethertype: fsm.EthertypeIPv4, Protocol: fsm.ProtocolICMP, PortMin: ptr(0), PortMax: ptr(0), RemoteGroupID: "sg2",
			ProjectID: "p1", Created: t2}},
		&fsm.DeleteSecurityGroupRule{ID: "r2", ProjectID: "p1", Time: t2},
		&fsm.AddInstanceSecurityGroup{InstanceID: "i-1", GroupID: "sg1", Time: t2},
		&fsm.RemoveInstanceSecurityGroup{InstanceID: "i-1", GroupID: "sg1", Time: t2},
		&fsm.CreateKeyPair{KeyPair: fsm.KeyPair{Name: "laptop", UserID: "u1", ProjectID: "p1", PublicKey: sshKeyA,
			Fingerprint: fpA, Type: fsm.KeyPairTypeSSH, Created: t1, Indexes: fsm.Indexes{CreateIndex: 3, ModifyIndex: 4}}},
		&fsm.DeleteKeyPair{UserID: "u1", Name: "laptop"},
		&fsm.UpdateInstance{ID: "i-1", Name: ptr("web-1b"), Description: ptr("d"), AccessIPv4: ptr("192.0.2.1"),
			AccessIPv6: ptr("2001:db8::1"), Hostname: ptr("web-1b"), Time: t2},
		&fsm.UpdateInstanceMetadata{ID: "i-1", Set: map[string]string{"a": "1"}, Replace: true, Delete: []string{"b"}, Admin: true, Time: t2},
		&fsm.LockInstance{ID: "i-1", Unlock: true, Reason: "r", RequestID: "req-3", UserID: "u1", ProjectID: "p1", Admin: true, Time: t2},
		&fsm.UpdateFlavor{ID: "f-big", Description: ptr("big")},
		&fsm.SetFlavorExtraSpecs{ID: "f-big", Specs: map[string]string{"hw:cpu_policy": "dedicated", "quota:vif": "1"}},
		&fsm.DeleteFlavorExtraSpec{ID: "f-big", Key: "hw:cpu_policy"},
		&fsm.AddFlavorAccess{ID: "f-big", ProjectID: "p1"},
		&fsm.RemoveFlavorAccess{ID: "f-big", ProjectID: "p1"},
		&fsm.UpdateImage{ID: "img-1", Time: t2, Changes: []fsm.ImageChange{
			{Op: fsm.ImageOpReplace, Field: fsm.ImageFieldMinRAM, Number: 512},
			{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldProtected, Flag: true},
			{Op: fsm.ImageOpAdd, Field: fsm.ImageFieldTags, Tags: []string{"a", "b"}},
			{Op: fsm.ImageOpAdd, Property: "hw:disk_bus", Value: "virtio"},
		}},
		&fsm.RebuildInstance{ID: "i-1", ImageID: "img-1", Name: ptr("web-1c"), ReplaceMetadata: true, Metadata: map[string]string{"a": "1"},
			Description: ptr("d"), KeyName: ptr("k"), KeyData: "ssh-ed25519 AAAA", UserData: ptr("aGk="),
			RequestID: "req-4", UserID: "u1", ProjectID: "p1", Admin: true, Time: t2},
		&fsm.UpdateSecurityGroup{ID: "sg1", ProjectID: "p1", Name: ptr("db"), Description: ptr(""), Time: t2},
		&fsm.AddInstanceTag{ID: "i-1", Tag: "web", Time: t2},
		&fsm.DeleteInstanceTag{ID: "i-1", Tag: "web", Time: t2},
		&fsm.SetInstanceTags{ID: "i-1", Tags: []string{"a", "b"}, Time: t2},
		&fsm.DrainHost{Name: "h1", Start: true, Time: t1},
		&fsm.DrainHost{Name: "h1", Result: fsm.DrainFailed, Time: t2},
		&fsm.MigrateInstance{ID: "i-1", Kind: fsm.MigrationResize, Host: "h2", FlavorID: "2", Ratios: fsm.DefaultRatios,
			MigrationUUID: "m-1", RequestID: "req-5", UserID: "u1", ProjectID: "p1", Admin: true, Time: t2},
		&fsm.ResizeDecision{ID: "i-1", Revert: true, RequestID: "req-6", UserID: "u1", ProjectID: "p1", Admin: true, Time: t2},
	}
}

func withImageIndexes(img fsm.Image, create, modify uint64) fsm.Image {
	img.CreateIndex, img.ModifyIndex = create, modify
	return img
}

// The type list is append-only: these values are in old logs and must not move.
func TestTypeValues(t *testing.T) {
	for _, tc := range []struct {
		typ  fsm.Type
		want uint8
		name string
	}{
		{fsm.TypeBatch, 1, "batch"},
		{fsm.TypeBootstrap, 2, "bootstrap"},
		{fsm.TypeRegisterHost, 3, "register-host"},
		{fsm.TypeDeregisterHost, 4, "deregister-host"},
		{fsm.TypeSetHostEnabled, 5, "set-host-enabled"},
		{fsm.TypeCreateFlavor, 6, "create-flavor"},
		{fsm.TypeDeleteFlavor, 7, "delete-flavor"},
		{fsm.TypeUpdateHostInventory, 8, "update-host-inventory"},
		{fsm.TypeCreateImage, 9, "create-image"},
		{fsm.TypeDeleteImage, 10, "delete-image"},
		{fsm.TypeCreateServerGroup, 11, "create-server-group"},
		{fsm.TypeDeleteServerGroup, 12, "delete-server-group"},
		{fsm.TypeCreateInstances, 13, "create-instances"},
		{fsm.TypeInstanceAction, 14, "instance-action"},
		{fsm.TypePlan, 15, "plan"},
		{fsm.TypeReportInstances, 16, "report-instances"},
		{fsm.TypeImageUploaded, 17, "image-uploaded"},
		{fsm.TypeRemoveImageLocation, 18, "remove-image-location"},
		{fsm.TypeMarkHostDown, 19, "mark-host-down"},
		{fsm.TypeMarkHostUp, 20, "mark-host-up"},
		{fsm.TypeEvacuateInstances, 21, "evacuate-instances"},
		{fsm.TypeForceHostDown, 22, "force-host-down"},
		{fsm.TypeSetQuota, 23, "set-quota"},
		{fsm.TypeCreateProject, 24, "create-project"},
		{fsm.TypeUpdateProject, 25, "update-project"},
		{fsm.TypeDeleteProject, 26, "delete-project"},
		{fsm.TypeCreateUser, 27, "create-user"},
		{fsm.TypeUpdateUser, 28, "update-user"},
		{fsm.TypeDeleteUser, 29, "delete-user"},
		{fsm.TypeCreateRole, 30, "create-role"},
		{fsm.TypeDeleteRole, 31, "delete-role"},
		{fsm.TypeGrantRole, 32, "grant-role"},
		{fsm.TypeRevokeRole, 33, "revoke-role"},
		{fsm.TypePublishSigningKey, 34, "publish-signing-key"},
		{fsm.TypeRetireSigningKey, 35, "retire-signing-key"},
		{fsm.TypeRevokeToken, 36, "revoke-token"},
		{fsm.TypeCreateJoinToken, 37, "create-join-token"},
		{fsm.TypeConsumeJoinToken, 38, "consume-join-token"},
		{fsm.TypeRevokeJoinToken, 39, "revoke-join-token"},
		{fsm.TypeRecordNodeCert, 40, "record-node-cert"},
		{fsm.TypeRevokeNodeCerts, 41, "revoke-node-certs"},
		{fsm.TypeInstallGossipKey, 42, "install-gossip-key"},
		{fsm.TypeUseGossipKey, 43, "use-gossip-key"},
		{fsm.TypeRemoveGossipKey, 44, "remove-gossip-key"},
		{fsm.TypeCreateNetwork, 45, "create-network"},
		{fsm.TypeDeleteNetwork, 46, "delete-network"},
		{fsm.TypeAllocateFloatingIP, 47, "allocate-floating-ip"},
		{fsm.TypeReleaseFloatingIP, 48, "release-floating-ip"},
		{fsm.TypeAssociateFloatingIP, 49, "associate-floating-ip"},
		{fsm.TypeDisassociateFloatingIP, 50, "disassociate-floating-ip"},
		{fsm.TypeCreateSecurityGroup, 51, "create-security-group"},
		{fsm.TypeDeleteSecurityGroup, 52, "delete-security-group"},
		{fsm.TypeCreateSecurityGroupRule, 53, "create-security-group-rule"},
		{fsm.TypeDeleteSecurityGroupRule, 54, "delete-security-group-rule"},
		{fsm.TypeAddInstanceSecurityGroup, 55, "add-instance-security-group"},
		{fsm.TypeRemoveInstanceSecurityGroup, 56, "remove-instance-security-group"},
		{fsm.TypeCreateKeyPair, 57, "create-keypair"},
		{fsm.TypeDeleteKeyPair, 58, "delete-keypair"},
		{fsm.TypeUpdateInstance, 59, "update-instance"},
		{fsm.TypeUpdateInstanceMetadata, 60, "update-instance-metadata"},
		{fsm.TypeLockInstance, 61, "lock-instance"},
		{fsm.TypeUpdateFlavor, 62, "update-flavor"},
		{fsm.TypeSetFlavorExtraSpecs, 63, "set-flavor-extra-specs"},
		{fsm.TypeDeleteFlavorExtraSpec, 64, "delete-flavor-extra-spec"},
		{fsm.TypeAddFlavorAccess, 65, "add-flavor-access"},
		{fsm.TypeRemoveFlavorAccess, 66, "remove-flavor-access"},
		{fsm.TypeUpdateImage, 67, "update-image"},
		{fsm.TypeRebuildInstance, 68, "rebuild-instance"},
		{fsm.TypeUpdateSecurityGroup, 69, "update-security-group"},
		{fsm.TypeCreateAggregate, 70, "create-aggregate"},
		{fsm.TypeUpdateAggregate, 71, "update-aggregate"},
		{fsm.TypeDeleteAggregate, 72, "delete-aggregate"},
		{fsm.TypeAddAggregateHost, 73, "add-aggregate-host"},
		{fsm.TypeRemoveAggregateHost, 74, "remove-aggregate-host"},
		{fsm.TypeSetQuotaClass, 83, "set-quota-class"},
		{fsm.TypeAddInstanceTag, 77, "add-instance-tag"},
		{fsm.TypeDeleteInstanceTag, 78, "delete-instance-tag"},
		{fsm.TypeSetInstanceTags, 79, "set-instance-tags"},
		{fsm.TypeDrainHost, 88, "drain-host"},
		{fsm.TypeMigrateInstance, 86, "migrate-instance"},
		{fsm.TypeResizeDecision, 87, "resize-decision"},
		{fsm.Type(200), 200, "type(200)"},
	} {
		if uint8(tc.typ) != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.typ, tc.want)
		}
		if got := tc.typ.String(); got != tc.name {
			t.Errorf("Type(%d).String() = %q, want %q", tc.want, got, tc.name)
		}
	}
}

// The wire format is one type byte and JSON; a change here breaks old logs.
func TestEncodeWireFormat(t *testing.T) {
	got := encode(t, &fsm.DeleteFlavor{ID: "7"})
	if want := "\x07{\"id\":\"7\"}"; string(got) != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
	got = encode(t, &fsm.Batch{Entries: [][]byte{{7, '{', '}'}}})
	if want := "\x01{\"entries\":[\"B3t9\"]}"; string(got) != want {
		t.Errorf("Encode(batch) = %q, want %q", got, want)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, c := range everyCommand(t) {
		t.Run(c.Type().String(), func(t *testing.T) {
			b := encode(t, c)
			if typ := fsm.Type(b[0]); typ != c.Type() {
				t.Errorf("type byte = %d, want %d", typ, c.Type())
			}
			got, err := fsm.Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Errorf("Decode(Encode(c)) =\n%#v\nwant\n%#v", got, c)
			}
			if again := encode(t, got); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n%q\n%q", b, again)
			}
		})
	}
}

type bogus struct{}

func (bogus) Type() fsm.Type { return 200 }

func TestEncodeUnknownType(t *testing.T) {
	if b, err := fsm.Encode(bogus{}); err == nil {
		t.Errorf("Encode(unknown type) = %q, want error", b)
	}
}

// undecodable are entries no replica can apply.
var undecodable = []struct {
	name string
	data []byte
}{
	{"nil", nil},
	{"empty", []byte{}},
	{"zero type", []byte("\x00{}")},
	{"unknown type", []byte("\xc8{}")},
	{"type byte only", []byte{byte(fsm.TypeCreateFlavor)}},
	{"not json", []byte("\x06not json")},
	{"truncated json", []byte("\x03{\"name\":\"h1\"")},
	{"trailing data", []byte("\x07{\"id\":\"1\"}{}")},
	{"wrong field type", []byte("\x06{\"flavor\":{\"vcpus\":\"two\"}}")},
	{"bad time", []byte("\x03{\"name\":\"h1\",\"time\":\"yesterday\"}")},
	{"array payload", []byte("\x04[]")},
	{"batch not json", []byte("\x01{")},
	{"batch entry not base64", []byte("\x01{\"entries\":[\"!!\"]}")},
	{"batch with empty entry", []byte("\x01{\"entries\":[\"\"]}")},
	{"batch with null entry", []byte("\x01{\"entries\":[null]}")},
	{"nested batch", []byte("\x01{\"entries\":[\"AXt9\"]}")},                // "\x01{}"
	{"batch entry of unknown type", []byte("\x01{\"entries\":[\"yHt9\"]}")}, // "\xc8{}"
	{"batch entry not json", []byte("\x01{\"entries\":[\"B3s=\"]}")},        // "\x07{"
	{"instances not a list", []byte("\x0d{\"instances\":{}}")},
	{"fractional power state", []byte("\x10{\"host\":\"h1\",\"reports\":[{\"id\":\"a\",\"power_state\":1.5}]}")},
	{"attempts as exponent", []byte("\x0f{\"max_attempts\":1e3}")},
	{"ratio overflow", []byte("\x0f{\"ratios\":{\"cpu\":1e400}}")},
	{"ratio as string", []byte("\x0f{\"ratios\":{\"cpu\":\"16\"}}")},
	{"image size as string", []byte("\x09{\"image\":{\"size\":\"1\"}}")},
	{"hard not bool", []byte("\x0e{\"id\":\"a\",\"hard\":1}")},
	{"upload size as string", []byte("\x11{\"id\":\"i\",\"size\":\"1\"}")},
	{"upload size fractional", []byte("\x11{\"id\":\"i\",\"size\":1.5}")},
	{"location node not a string", []byte("\x12{\"id\":\"i\",\"node\":7}")},
	{"batch entry create-instances not json", []byte("\x01{\"entries\":[\"DXs=\"]}")}, // "\x0d{"
	{"uses as string", []byte("\x25{\"id\":\"t\",\"max_uses\":\"1\"}")},
	{"sealed key not base64", []byte("\x2a{\"id\":\"k\",\"sealed\":\"!!\"}")},
	{"not after not a time", []byte("\x28{\"serial\":\"0a\",\"not_after\":\"soon\"}")},
	{"port as string", []byte("\x35{\"rule\":{\"id\":\"r\",\"port_range_min\":\"80\"}}")},
	{"port fractional", []byte("\x35{\"rule\":{\"id\":\"r\",\"port_range_max\":1.5}}")},
	{"pools not a list", []byte("\x2d{\"allocation_pools\":{}}")},
	{"cross project not bool", []byte("\x31{\"cross_project\":\"yes\"}")},
	{"config drive not bool", []byte("\x0d{\"instances\":[{\"id\":\"a\",\"config_drive\":\"yes\"}]}")},
	{"keypair not an object", []byte("\x39{\"keypair\":[]}")},
	{"name not a string", []byte("\x3b{\"id\":\"i\",\"name\":7}")},
	{"metadata not a map", []byte("\x3c{\"id\":\"i\",\"set\":[]}")},
	{"unlock not bool", []byte("\x3d{\"id\":\"i\",\"unlock\":\"yes\"}")},
	{"extra spec value a number", []byte("\x3f{\"id\":\"f\",\"extra_specs\":{\"k\":1}}")},
	{"image changes not a list", []byte("\x43{\"id\":\"i\",\"changes\":{}}")},
	{"image change number fractional", []byte("\x43{\"id\":\"i\",\"changes\":[{\"number\":1.5}]}")},
	{"replace metadata not bool", []byte("\x44{\"id\":\"i\",\"replace_metadata\":1}")},
	{"group description not a string", []byte("\x45{\"id\":\"g\",\"description\":false}")},
	{"migration ratios not an object", []byte("\x56{\"id\":\"i\",\"ratios\":[]}")},
	{"revert not bool", []byte("\x57{\"id\":\"i\",\"revert\":\"yes\"}")},
	{"type after the last", []byte("\xc8{}")}, // 200: the table has no type that high
}

func TestDecodeRejects(t *testing.T) {
	for _, tc := range undecodable {
		t.Run(tc.name, func(t *testing.T) {
			if c, err := fsm.Decode(tc.data); err == nil {
				t.Errorf("Decode(%q) = %#v, want error", tc.data, c)
			}
		})
	}
}

func TestApplyPanicsOnUndecodable(t *testing.T) {
	for _, tc := range undecodable {
		t.Run(tc.name, func(t *testing.T) {
			f := oneHost(t)
			// The replica stops before touching state or waking anyone.
			msg := applyRejected(t, f, 2, tc.data)
			if !strings.Contains(msg, "undecodable") || !strings.Contains(msg, "index 2") {
				t.Errorf("panic %q does not say the entry at index 2 is undecodable", msg)
			}
			// The lock was not left held.
			mustApply(t, f, 3, registerHost("h2", t0))
		})
	}
}

// Unknown JSON fields are ignored, so a newer proposer's extra field does not
// stop an older replica.
func TestDecodeIgnoresUnknownFields(t *testing.T) {
	c, err := fsm.Decode([]byte("\x07{\"id\":\"1\",\"added_later\":true}"))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if want := (&fsm.DeleteFlavor{ID: "1"}); !reflect.DeepEqual(c, want) {
		t.Errorf("Decode = %#v, want %#v", c, want)
	}
}
