package fsm_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/shoal-project/shoal/fsm"
)

// ownedImage is activeImage owned by project (user "u-"+project).
func ownedImage(id, project, visibility string) fsm.Image {
	img := activeImage(id)
	img.ProjectID, img.UserID, img.Visibility = project, "u-"+project, visibility
	return img
}

// ownedCreate creates servers of flavorID for project, one command for all.
func ownedCreate(project, flavorID string, ids ...string) *fsm.CreateInstances {
	c := createCmd(ids...)
	c.ProjectID, c.UserID = project, "u-"+project
	for k := range c.Instances {
		c.Instances[k].FlavorID = flavorID
	}
	return c
}

// idRange is n server IDs prefix0, prefix1, ...
func idRange(prefix string, n int) []string {
	out := make([]string, n)
	for k := range out {
		out[k] = fmt.Sprintf("%s%d", prefix, k)
	}
	return out
}

func setQuota(project string, q fsm.QuotaOverride) *fsm.SetQuota {
	return &fsm.SetQuota{ProjectID: project, Quota: q}
}

// An owned server keeps its project and user through every transition:
// placement, actions, host down and evacuation, rebuild elsewhere.
func TestOwnershipKeptThroughTransitions(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(ownedCreate("p1", "1", "a"))
	owned := func(step string) {
		t.Helper()
		if i := w.inst("a"); i.ProjectID != "p1" || i.UserID != "u-p1" {
			t.Fatalf("after %s: owner %q/%q, want p1/u-p1 (%s)", step, i.ProjectID, i.UserID, describe(i))
		}
	}
	owned("create")
	w.place("a", "h1")
	owned("plan")
	w.finish("a")
	owned("spawn")
	for _, a := range []string{fsm.ActionStop, fsm.ActionStart, fsm.ActionReboot, fsm.ActionPause, fsm.ActionUnpause} {
		w.act("a", a)
		w.finish("a")
		owned(a)
	}
	w.must(resetState("a", "error"))
	owned("reset-state")
	w.must(resetState("a", "active"))
	w.must(markDown("h1"))
	owned("host down")
	w.must(planCmd(fsm.Placement{InstanceID: "a", Host: "h2"}))
	owned("evacuation plan")
	w.must(reportCmd("h2", fsm.InstanceReport{ID: "a", PowerState: fsm.PowerRunning, Done: fsm.TaskRebuildSpawning}))
	owned("rebuild")
	if i := w.inst("a"); i.Status() != "ACTIVE" || i.Host != "h2" {
		t.Fatalf("after rebuild: %s", describe(i))
	}
	checkDerived(t, w.f)
}

// Groups and images keep their owner; an owned image without a visibility
// is private, one without an owner has none, and an unknown visibility is
// refused.
func TestOwnedGroupsAndImages(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(
		&fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: "g1", Name: "web", Policy: fsm.PolicyAffinity, ProjectID: "p1", UserID: "u-p1"}},
		&fsm.CreateImage{Image: ownedImage("img-p1", "p1", "")},
		&fsm.CreateImage{Image: ownedImage("img-pub", "p2", fsm.ImagePublic)},
		&fsm.CreateImage{Image: ownedImage("img-shared", "p2", fsm.ImageShared)},
		&fsm.ImageUploaded{ID: "img-p1", Node: "h2", Size: 1 << 20, Checksum: sumA, Time: t1},
	)
	c := ownedCreate("p1", "1", "a", "b")
	for k := range c.Instances {
		c.Instances[k].ServerGroupID = "g1"
	}
	w.must(c)
	if g := w.group("g1"); g.ProjectID != "p1" || g.UserID != "u-p1" || len(g.Members) != 2 {
		t.Fatalf("group = %+v", g)
	}
	for id, want := range map[string]string{"img-p1": fsm.ImagePrivate, "img-pub": fsm.ImagePublic, "img-shared": fsm.ImageShared, testImage: ""} {
		img, err := w.f.Image(id)
		if err != nil || img.Visibility != want {
			t.Errorf("image %s visibility %q (%v), want %q", id, img.Visibility, err, want)
		}
	}
	if img, _ := w.f.Image("img-p1"); img.ProjectID != "p1" || img.UserID != "u-p1" || len(img.Locations) != 1 {
		t.Errorf("uploaded image lost its owner: %+v", img)
	}
	bad := ownedImage("img-bad", "p1", "hidden")
	w.refuse(&fsm.CreateImage{Image: bad}, fsm.ErrInvalid)

	visible := func(p string) []string {
		var out []string
		for _, img := range w.f.ImagesVisibleTo(p) {
			out = append(out, img.ID)
		}
		return out
	}
	for _, tc := range []struct {
		project string
		want    []string // ordered by name, then ID
	}{
		{"p1", []string{"cirros-" + testImage, "cirros-img-p1", "cirros-img-pub"}},
		{"p2", []string{"cirros-" + testImage, "cirros-img-pub", "cirros-img-shared"}},
		{"p3", []string{"cirros-" + testImage, "cirros-img-pub"}},
	} {
		var names []string
		for _, img := range w.f.ImagesVisibleTo(tc.project) {
			names = append(names, img.Name)
		}
		if !reflect.DeepEqual(names, tc.want) {
			t.Errorf("ImagesVisibleTo(%s) = %v (%v), want %v", tc.project, names, visible(tc.project), tc.want)
		}
	}
	w.create("legacy")
	if got := ids(w.f.Instances(fsm.InProject("p1"))); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Instances(InProject(p1)) = %v", got)
	}
	if got := w.f.Instances(fsm.InProject("p2")); len(got) != 0 {
		t.Errorf("Instances(InProject(p2)) = %v", ids(got))
	}
	if got := w.f.ServerGroupsOf("p1"); len(got) != 1 || got[0].ID != "g1" {
		t.Errorf("ServerGroupsOf(p1) = %+v", got)
	}
	if got := w.f.ServerGroupsOf("p2"); len(got) != 0 {
		t.Errorf("ServerGroupsOf(p2) = %+v", got)
	}
}

// SetQuota changes only the limits given; the others keep their value or
// the default. Bad values and a missing project change nothing.
func TestSetQuota(t *testing.T) {
	w := newWorld(t, testCIDR)
	def := fsm.DefaultQuota()
	if def != (fsm.QuotaSet{Instances: 10, Cores: 20, RAM: 51200, ServerGroups: 10, ServerGroupMembers: 10, KeyPairs: 100, FloatingIPs: 10,
		MetadataItems: 128, FixedIPs: -1, InjectedFiles: 5, InjectedFileContentBytes: 10240, InjectedFilePathBytes: 255,
		SecurityGroups: -1, SecurityGroupRules: -1}) {
		t.Fatalf("DefaultQuota = %+v, want Nova's", def)
	}
	if got := w.f.Quota("p1"); got != def {
		t.Fatalf("Quota of a project never set = %+v, want defaults", got)
	}
	w.must(setQuota("p1", fsm.QuotaOverride{Cores: ptr(4)}))
	w.must(setQuota("p1", fsm.QuotaOverride{RAM: ptr(-1), KeyPairs: ptr(0)}))
	want := def
	want.Cores, want.RAM, want.KeyPairs = 4, fsm.Unlimited, 0
	if got := w.f.Quota("p1"); got != want {
		t.Fatalf("Quota(p1) = %+v, want %+v", got, want)
	}
	if got := w.f.Quota("p2"); got != def {
		t.Errorf("Quota(p2) = %+v, want defaults", got)
	}
	w.noop(setQuota("p3", fsm.QuotaOverride{})) // nothing given, nothing stored
	for _, tc := range []struct {
		name string
		cmd  *fsm.SetQuota
	}{
		{"no project", setQuota("", fsm.QuotaOverride{Cores: ptr(1)})},
		{"below -1", setQuota("p1", fsm.QuotaOverride{Instances: ptr(-2)})},
		{"one of several bad", setQuota("p1", fsm.QuotaOverride{Cores: ptr(8), ServerGroupMembers: ptr(-5)})},
	} {
		t.Run(tc.name, func(t *testing.T) { w.refuse(tc.cmd, fsm.ErrInvalid) })
	}
	if got := w.f.Quota("p1"); got != want {
		t.Fatalf("Quota(p1) after refusals = %+v, want %+v", got, want)
	}
}

// Creates within the limit succeed, one unit over is refused with Nova's
// message and changes nothing; -1 never refuses; objects without a project
// are not counted.
func TestQuotaEnforced(t *testing.T) {
	unlimited := ptr(fsm.Unlimited)
	for _, tc := range []struct {
		name  string
		quota fsm.QuotaOverride
		setup []fsm.Command
		cmd   fsm.Command
		want  string // "" when it must succeed
	}{
		{name: "instances at the limit", quota: fsm.QuotaOverride{Instances: ptr(2)},
			cmd: ownedCreate("p1", "1", "a", "b")},
		{name: "instances one over", quota: fsm.QuotaOverride{Instances: ptr(2)},
			cmd:  ownedCreate("p1", "1", "a", "b", "c"),
			want: "Quota exceeded for instances: Requested 3, but already used 0 of 2 instances"},
		{name: "instances counted with those held", quota: fsm.QuotaOverride{Instances: ptr(2)},
			setup: []fsm.Command{ownedCreate("p1", "1", "a"), ownedCreate("p2", "1", "other")},
			cmd:   ownedCreate("p1", "1", "b", "c"),
			want:  "Quota exceeded for instances: Requested 2, but already used 1 of 2 instances"},
		{name: "cores at the limit", quota: fsm.QuotaOverride{Instances: unlimited},
			setup: []fsm.Command{ownedCreate("p1", "3", idRange("m", 9)...)},
			cmd:   ownedCreate("p1", "1", "t0", "t1")},
		{name: "cores one over", quota: fsm.QuotaOverride{Instances: unlimited},
			setup: []fsm.Command{ownedCreate("p1", "3", idRange("m", 9)...)},
			cmd:   ownedCreate("p1", "3", "x", "y"),
			want:  "Quota exceeded for cores: Requested 4, but already used 18 of 20 cores"},
		{name: "ram one over", quota: fsm.QuotaOverride{Instances: unlimited, Cores: unlimited},
			setup: []fsm.Command{ownedCreate("p1", "3", idRange("m", 12)...)},
			cmd:   ownedCreate("p1", "3", "x"),
			want:  "Quota exceeded for ram: Requested 4096, but already used 49152 of 51200 ram"},
		{name: "ram at the limit", quota: fsm.QuotaOverride{Instances: unlimited, Cores: unlimited},
			setup: []fsm.Command{ownedCreate("p1", "3", idRange("m", 12)...)},
			cmd:   ownedCreate("p1", "2", "x")}, // 49152 + 2048 = 51200
		{name: "instances checked before cores and ram", quota: fsm.QuotaOverride{Instances: ptr(1), Cores: ptr(1), RAM: ptr(1)},
			cmd:  ownedCreate("p1", "5", "a", "b"),
			want: "Quota exceeded for instances: Requested 2, but already used 0 of 1 instances"},
		{name: "cores checked before ram", quota: fsm.QuotaOverride{Cores: ptr(1), RAM: ptr(1)},
			cmd:  ownedCreate("p1", "5", "a"),
			want: "Quota exceeded for cores: Requested 8, but already used 0 of 1 cores"},
		{name: "unlimited", quota: fsm.QuotaOverride{Instances: unlimited, Cores: unlimited, RAM: unlimited},
			cmd: ownedCreate("p1", "5", idRange("x", 15)...)},
		{name: "zero refuses all", quota: fsm.QuotaOverride{Instances: ptr(0)},
			cmd:  ownedCreate("p1", "1", "a"),
			want: "Quota exceeded for instances: Requested 1, but already used 0 of 0 instances"},
		{name: "deleted servers free their share", quota: fsm.QuotaOverride{Instances: ptr(1)},
			setup: []fsm.Command{ownedCreate("p1", "1", "a"), actionCmd("a", fsm.ActionDelete)},
			cmd:   ownedCreate("p1", "1", "b")},
		{name: "no project, no quota", quota: fsm.QuotaOverride{Instances: ptr(0)},
			cmd: createCmd(idRange("x", 12)...)},
		{name: "defaults apply", setup: []fsm.Command{ownedCreate("p1", "1", idRange("x", 10)...)},
			cmd:  ownedCreate("p1", "1", "y"),
			want: "Quota exceeded for instances: Requested 1, but already used 10 of 10 instances"},
		{name: "server groups one over", quota: fsm.QuotaOverride{ServerGroups: ptr(1)},
			setup: []fsm.Command{ownedGroup("g1", "p1"), ownedGroup("g-other", "p2"), ownedGroup("g-legacy", "")},
			cmd:   ownedGroup("g2", "p1"),
			want:  "Quota exceeded, too many server groups."},
		{name: "server groups at the limit", quota: fsm.QuotaOverride{ServerGroups: ptr(2)},
			setup: []fsm.Command{ownedGroup("g1", "p1")},
			cmd:   ownedGroup("g2", "p1")},
		{name: "group members at the limit", quota: fsm.QuotaOverride{ServerGroupMembers: ptr(2)},
			setup: []fsm.Command{ownedGroup("g1", "p1"), joining(ownedCreate("p1", "1", "a"), "g1")},
			cmd:   joining(ownedCreate("p1", "1", "b"), "g1")},
		{name: "group members one over", quota: fsm.QuotaOverride{ServerGroupMembers: ptr(2)},
			setup: []fsm.Command{ownedGroup("g1", "p1"), joining(ownedCreate("p1", "1", "a"), "g1")},
			cmd:   joining(ownedCreate("p1", "1", "b", "c"), "g1"),
			want:  "Quota exceeded, too many servers in group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.must(setQuota("p1", tc.quota))
			w.must(tc.setup...)
			if tc.want == "" {
				w.must(tc.cmd)
				checkDerived(t, w.f)
				return
			}
			err := w.refuse(tc.cmd, fsm.ErrOverQuota)
			if err.Error() != tc.want {
				t.Errorf("refusal says %q, want %q", err, tc.want)
			}
			var qe *fsm.QuotaError
			if !errors.As(err, &qe) || fsm.KindOf(err) != "over_quota" {
				t.Errorf("error %v is not a QuotaError of kind over_quota", err)
			}
		})
	}
}

func ownedGroup(id, project string) *fsm.CreateServerGroup {
	return &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: id, Name: "group-" + id, Policy: fsm.PolicySoftAffinity,
		ProjectID: project, Created: t0}}
}

func joining(c *fsm.CreateInstances, group string) *fsm.CreateInstances {
	for k := range c.Instances {
		c.Instances[k].ServerGroupID = group
	}
	return c
}

// Two nodes that each checked the quota against the same state propose
// creates that fit alone but not together: Apply takes the first and
// refuses the second, whether they arrive as two entries or in one batch.
func TestQuotaRacingCreates(t *testing.T) {
	for _, batched := range []bool{false, true} {
		t.Run(fmt.Sprintf("batched=%v", batched), func(t *testing.T) {
			w := newWorld(t, testCIDR)
			w.must(setQuota("p1", fsm.QuotaOverride{Instances: ptr(3)}))
			first, second := ownedCreate("p1", "1", "a", "b"), ownedCreate("p1", "1", "c", "d")
			var errs []error
			if batched {
				errs = applyBatch(t, w.f, w.next, batchOf(t, first, second)).Errors
				w.next++
			} else {
				errs = []error{w.apply(first), w.apply(second)}
			}
			if errs[0] != nil || !errors.Is(errs[1], fsm.ErrOverQuota) {
				t.Fatalf("racing creates: %v", errs)
			}
			if got := w.f.ProjectUsage("p1"); got != (fsm.QuotaUsage{Instances: 2, Cores: 2, RAM: 1024}) {
				t.Fatalf("ProjectUsage(p1) = %+v", got)
			}
			if got := ids(w.f.Instances(nil)); !reflect.DeepEqual(got, []string{"a", "b"}) {
				t.Fatalf("servers = %v", got)
			}
		})
	}
}

// Quotas and owners survive a snapshot: the restored replica shows and
// enforces the same.
func TestSnapshotKeepsQuotasAndOwners(t *testing.T) {
	w := newWorld(t, testCIDR)
	w.must(
		setQuota("p1", fsm.QuotaOverride{Instances: ptr(2), RAM: ptr(-1)}),
		setQuota("p2", fsm.QuotaOverride{ServerGroups: ptr(0)}),
		ownedGroup("g1", "p1"),
		&fsm.CreateImage{Image: ownedImage("img-p1", "p1", fsm.ImagePublic)},
		joining(ownedCreate("p1", "2", "a"), "g1"),
	)
	snap := snapshotBytes(t, w.f)
	dst := fsm.New()
	restore(t, dst, snap)
	sameSnapshot(t, "restored", w.f, dst)
	for _, p := range []string{"p1", "p2", "p3"} {
		if a, b := w.f.Quota(p), dst.Quota(p); a != b {
			t.Errorf("Quota(%s): %+v before, %+v restored", p, a, b)
		}
		if a, b := w.f.ProjectUsage(p), dst.ProjectUsage(p); a != b {
			t.Errorf("ProjectUsage(%s): %+v before, %+v restored", p, a, b)
		}
	}
	if got := dst.ProjectUsage("p1"); got != (fsm.QuotaUsage{Instances: 1, Cores: 1, RAM: 2048, ServerGroups: 1}) {
		t.Errorf("ProjectUsage(p1) = %+v", got)
	}
	i, _ := dst.Instance("a")
	img, _ := dst.Image("img-p1")
	g, _ := dst.ServerGroup("g1")
	if i.ProjectID != "p1" || i.UserID != "u-p1" || img.ProjectID != "p1" || img.Visibility != fsm.ImagePublic || g.ProjectID != "p1" {
		t.Errorf("owners after restore: server %q/%q image %q/%q group %q", i.ProjectID, i.UserID, img.ProjectID, img.Visibility, g.ProjectID)
	}
	r := &world{t: t, f: dst, next: w.next}
	r.must(ownedCreate("p1", "1", "b"))
	r.refuse(ownedCreate("p1", "1", "c"), fsm.ErrOverQuota)
	r.refuse(ownedGroup("g2", "p2"), fsm.ErrOverQuota)
}

// Every quota key has a name, a limit and an override, from one list: the
// API decodes and shows them through it.
func TestQuotaNames(t *testing.T) {
	names := fsm.QuotaNames()
	want := []string{"instances", "cores", "ram", "server_groups", "server_group_members", "key_pairs", "floating_ips",
		"metadata_items", "fixed_ips", "injected_files", "injected_file_content_bytes", "injected_file_path_bytes",
		"security_groups", "security_group_rules"}
	if !slices.Equal(names, want) {
		t.Fatalf("QuotaNames = %v", names)
	}
	def := fsm.DefaultQuota()
	o := def.Override()
	var set fsm.QuotaOverride
	for k, name := range names {
		limit, ok := def.Limit(name)
		if !ok || o.Limit(name) == nil || *o.Limit(name) != limit {
			t.Errorf("%s: limit %d %v, override %v", name, limit, ok, o.Limit(name))
		}
		if !set.Set(name, k) || *set.Limit(name) != k {
			t.Errorf("Set(%s)", name)
		}
	}
	if _, ok := def.Limit("bogus"); ok || set.Set("bogus", 1) || set.Limit("bogus") != nil {
		t.Error("an unknown name has a limit")
	}
	// The override of the defaults, applied, is the defaults.
	w := newWorld(t, testCIDR)
	w.must(setQuota("p1", set), setQuota("p1", o))
	if got := w.f.Quota("p1"); got != def {
		t.Errorf("reset quota = %+v", got)
	}
}
