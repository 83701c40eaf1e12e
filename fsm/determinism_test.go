package fsm_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shoal-project/shoal/fsm"
)

// logGen builds a random but reproducible log. Names come from small pools so
// that conflicts, unknown objects and re-registrations happen often. The
// generator applies what it emits to its own model FSM, so that plans and
// host reports can name servers that really are pending or on that host;
// the model is itself deterministic, so the log stays reproducible.
type logGen struct {
	rng *rand.Rand
	// owner draws everything about projects and quotas, so that adding them
	// left the rest of each seed's log as it was.
	owner *rand.Rand
	// actor draws who asks for an action, for the same reason.
	actor *rand.Rand
	// security draws the cluster security commands, for the same reason.
	security *rand.Rand
	// network draws the networking commands (and the groups of new
	// servers), for the same reason.
	network *rand.Rand
	// keys draws the keypair commands and new servers' boot data, for the
	// same reason.
	keys *rand.Rand
	// os draws the updates the OpenStack APIs need (and the fields they
	// added to older commands), for the same reason.
	os *rand.Rand
	// admin draws the admin's cluster-wide commands (quota classes,
	// aggregates), for the same reason.
	admin *rand.Rand
	// tags draws the server tag commands, for the same reason.
	tags *rand.Rand
	// drain draws the host drain commands, for the same reason.
	drain *rand.Rand
	// mig draws the migration commands, for the same reason.
	mig   *rand.Rand
	seed  uint64
	model *fsm.FSM
	seen  map[string]int // statuses the model's servers went through, counted per entry
}

func newLogGen(seed uint64) *logGen {
	return &logGen{rng: rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e)), owner: rand.New(rand.NewPCG(seed, seed^0x0c0ffee)),
		actor: rand.New(rand.NewPCG(seed, seed^0xac7)), security: rand.New(rand.NewPCG(seed, seed^0x5ec)),
		network: rand.New(rand.NewPCG(seed, seed^0x4e7)), keys: rand.New(rand.NewPCG(seed, seed^0x6e75)),
		os: rand.New(rand.NewPCG(seed, seed^0x05)), admin: rand.New(rand.NewPCG(seed, seed^0xad)),
		tags: rand.New(rand.NewPCG(seed, seed^0x7a9)), drain: rand.New(rand.NewPCG(seed, seed^0xd7a)),
		mig:  rand.New(rand.NewPCG(seed, seed^0x316)),
		seed: seed, model: fsm.New(), seen: map[string]int{}}
}

func (g *logGen) pick(prefix string, n int) string {
	return fmt.Sprintf("%s%d", prefix, g.rng.IntN(n))
}

func (g *logGen) chance(n int) bool { return g.rng.IntN(n) == 0 }

// owned returns a project and a user from small pools, or none one time in
// none (an object made before identity).
func (g *logGen) owned(none int) (project, user string) {
	if g.owner.IntN(none) == 0 {
		return "", ""
	}
	return fmt.Sprintf("p%d", g.owner.IntN(3)), fmt.Sprintf("u%d", g.owner.IntN(2))
}

// pickKnown is g.pick(prefix, n), or, half the time when there are any, the
// id of one of known (which the model holds); the draws stay in that order so
// a seed still makes the same log.
func pickKnown[T any](g *logGen, prefix string, n int, known []T, id func(T) string) string {
	picked := g.pick(prefix, n)
	if len(known) > 0 && g.chance(2) {
		picked = id(known[g.rng.IntN(len(known))])
	}
	return picked
}

// stamp is the time a proposer stamps on the entry at index: whole seconds
// plus a fixed fraction, in UTC.
func stamp(index uint64) time.Time {
	return t0.Add(time.Duration(index)*time.Second + 250*time.Millisecond)
}

// command returns one non-batch command; a good share is invalid or stale by
// construction.
func (g *logGen) command(index uint64) fsm.Command {
	at := stamp(index)
	if g.owner.IntN(60) == 0 {
		return g.setQuota()
	}
	switch n := g.rng.IntN(120); {
	case n < 3:
		c := &fsm.Bootstrap{ClusterID: fmt.Sprintf("c-%d-%d", g.seed, index), Time: at, Flavors: fsm.DefaultFlavors(),
			NetworkCIDR: []string{"10.0.0.0/26", "10.1.0.0/27", "10.2.0.0/28", "10.3.0.0/29", "bad"}[g.rng.IntN(5)]}
		if g.chance(3) {
			c.ClusterID = ""
		}
		c.Identity = g.bootstrapIdentity()
		return c
	case n < 14:
		c := registerHost(g.pick("h", 8), at)
		c.HTTPAddress = fmt.Sprintf("10.0.0.%d:8774", g.rng.IntN(4))
		if g.chance(12) {
			c.Name = ""
		}
		return c
	case n < 17:
		return &fsm.DeregisterHost{Name: g.pick("h", 8)}
	case n < 23:
		return &fsm.SetHostEnabled{Name: g.pick("h", 8), Enabled: !g.chance(3), Reason: g.pick("reason-", 3), Time: at}
	case n < 31:
		return &fsm.CreateFlavor{Flavor: fsm.Flavor{
			ID:      g.pick("f", 10),
			Name:    g.pick("n", 10),
			VCPUs:   g.rng.IntN(5),        // 0 is invalid
			RAM:     g.rng.IntN(4) * 1024, // 0 is invalid
			Disk:    g.rng.IntN(42) - 1,   // -1 is invalid
			Created: at,
		}}
	case n < 34:
		return &fsm.DeleteFlavor{ID: g.pick("f", 10)}
	case n < 39:
		c := &fsm.UpdateHostInventory{Name: g.pick("h", 8), Inventory: fsm.Inventory{VCPUs: 4 + g.rng.IntN(13),
			MemoryMiB: int64(1+g.rng.IntN(16)) * 2048, DiskGiB: int64(1+g.rng.IntN(8)) * 50, Arch: "x86_64", Zone: g.pick("az", 2)}, Time: at}
		switch g.rng.IntN(10) {
		case 0:
			c.VCPUs = -1 // invalid
		case 1:
			c.MemoryMiB, c.DiskGiB = 1024, 10 // small: claims get rejected
		}
		return c
	case n < 41:
		img := activeImage(g.pick("img", 4))
		img.Created, img.Updated = at, at
		switch g.rng.IntN(8) {
		case 0:
			img.Status, img.Size, img.Checksum = fsm.ImageQueued, 0, ""
		case 1:
			img.Status = "killed" // invalid
		case 2:
			img.Size = -1 // invalid
		}
		if img.ProjectID, img.UserID = g.owned(2); img.ProjectID != "" {
			img.Visibility = []string{"", fsm.ImagePrivate, fsm.ImagePublic, fsm.ImageShared}[g.owner.IntN(4)]
			if g.owner.IntN(20) == 0 {
				img.Visibility = "bogus" // invalid
			}
		}
		return &fsm.CreateImage{Image: img}
	case n < 43:
		return g.imageData(at)
	case n < 45:
		return &fsm.DeleteImage{ID: pickKnown(g, "img", 4, g.model.Images(), func(i fsm.Image) string { return i.ID })}
	case n < 47:
		policies := []string{fsm.PolicyAffinity, fsm.PolicyAntiAffinity, fsm.PolicySoftAffinity, fsm.PolicySoftAntiAffinity, "any"}
		c := &fsm.CreateServerGroup{Group: fsm.ServerGroup{ID: g.pick("g", 4), Name: g.pick("group-", 4),
			Policy: policies[g.rng.IntN(len(policies))], Created: at}}
		c.Group.ProjectID, c.Group.UserID = g.owned(2)
		// An explicit max_server_per_host of 1 (the default) carries the
		// field through the codec and snapshots without changing what the
		// seeded log does (its coverage checks depend on it); the rule
		// itself is TestPlanRejects' and the scheduler's.
		if c.Group.Policy == fsm.PolicyAntiAffinity && at.Unix()%2 == 0 {
			c.Group.MaxServerPerHost = 1
		}
		return c
	case n < 49:
		return &fsm.DeleteServerGroup{ID: pickKnown(g, "g", 4, g.model.ServerGroups(), func(sg fsm.ServerGroup) string { return sg.ID })}
	case n < 62:
		return g.createInstances(index, at)
	case n < 74:
		return g.instanceAction(index, at)
	case n < 86:
		return g.plan(index, at)
	case n < 100:
		return g.report(at)
	default:
		return g.identity(at)
	}
}

// entries returns n encoded log entries, about one in eight a batch, and
// about n/5 cluster security entries between them, and applies each to the
// model.
func (g *logGen) entries(t testing.TB, n int) [][]byte {
	t.Helper()
	var log [][]byte
	for range n {
		// Now and then a cluster security command comes first, as an entry
		// of its own: drawn apart, so the other entries are what they were.
		if g.security.IntN(5) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.clusterSecurity(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And networking commands, the same way.
		if g.network.IntN(3) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.networking(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And keypair commands.
		if g.keys.IntN(6) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.keyPair(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And the OpenStack updates.
		if g.os.IntN(4) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.openStack(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And the admin's cluster-wide commands.
		if g.admin.IntN(5) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.adminCommand(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And the server tags.
		if g.tags.IntN(10) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.tagCommand(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And the host drains.
		if g.drain.IntN(12) == 0 {
			index := uint64(len(log) + 1)
			log = append(log, encode(t, g.drainCommand(stamp(index))))
			g.model.ApplyEntry(index, log[len(log)-1])
		}
		// And the migrations.
		if g.mig.IntN(7) == 0 {
			index := uint64(len(log) + 1)
			if c := g.migrationCommand(index, stamp(index)); c != nil {
				log = append(log, encode(t, c))
				g.model.ApplyEntry(index, log[len(log)-1])
			}
		}
		index := uint64(len(log) + 1)
		var entry []byte
		if g.rng.IntN(8) != 0 {
			entry = encode(t, g.command(index))
		} else {
			b := &fsm.Batch{}
			for range g.rng.IntN(6) { // zero to five entries
				b.Entries = append(b.Entries, encode(t, g.command(index)))
			}
			entry = encode(t, b)
		}
		log = append(log, entry)
		g.model.ApplyEntry(index, entry)
		for _, i := range g.model.Instances(nil) {
			g.seen[i.Status()]++
		}
	}
	return log
}

func generateLog(t testing.TB, seed uint64, n int) [][]byte {
	t.Helper()
	return newLogGen(seed).entries(t, n)
}

// replay applies log entries from index first on and describes each result,
// so that two replicas' answers can be compared too.
func replay(f *fsm.FSM, log [][]byte, first uint64) []string {
	var out []string
	for i, data := range log {
		res := f.ApplyEntry(first+uint64(i), data)
		out = append(out, fmt.Sprint(res))
	}
	return out
}

func TestDeterministicReplicas(t *testing.T) {
	// What the logs of all seeds exercised together; checked at the end.
	ok, total, seen := map[fsm.Type]int{}, map[fsm.Type]int{}, map[string]int{}
	overQuota := 0
	defer func() {
		assertLogExercisesCompute(t, ok, total, seen)
		t.Logf("%d entries refused over quota", overQuota)
		if overQuota == 0 {
			t.Error("no entry was ever refused over quota")
		}
	}()
	for _, seed := range []uint64{1, 2, 3, 42} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			g := newLogGen(seed)
			log := g.entries(t, 400)
			if again := generateLog(t, seed, 400); !equalLogs(log, again) {
				t.Fatal("the generator is not reproducible")
			}

			a, b := fsm.New(), fsm.New()
			resA, resB := replay(a, log, 1), replay(b, log, 1)

			for i := range resA {
				if resA[i] != resB[i] {
					t.Fatalf("entry %d: replica a got %s, b got %s", i+1, resA[i], resB[i])
				}
			}
			snapA, snapB := snapshotBytes(t, a), snapshotBytes(t, b)
			if !bytes.Equal(snapA, snapB) {
				t.Fatalf("snapshots differ:\na %s\nb %s", snapA, snapB)
			}
			if got := a.Index(); got != uint64(len(log)) {
				t.Errorf("Index() = %d, want %d", got, len(log))
			}

			// A replica that restores a snapshot halfway and replays the rest ends the same.
			half := len(log) / 2
			c := fsm.New()
			replay(c, log[:half], 1)
			d := fsm.New()
			restore(t, d, snapshotBytes(t, c))
			replay(d, log[half:], uint64(half+1))
			if snapD := snapshotBytes(t, d); !bytes.Equal(snapA, snapD) {
				t.Fatalf("restored replica differs:\na %s\nd %s", snapA, snapD)
			}
			// Its derived indexes too: every read agrees.
			assertSameReads(t, a, d)
			assertSameReads(t, a, g.model)
			checkDerived(t, a)

			assertLogExercisesFSM(t, a, resA)
			countResults(t, log, ok, total)
			for _, r := range resA {
				overQuota += strings.Count(r, "Quota exceeded")
			}
			for st, n := range g.seen {
				seen[st] += n
			}
		})
	}
}

// assertLogExercisesFSM guards against a generator that only produces no-ops.
func assertLogExercisesFSM(t *testing.T, f *fsm.FSM, results []string) {
	t.Helper()
	var ok, failed, batches int
	for _, r := range results {
		switch {
		case r == "<nil>":
			ok++
		case strings.HasPrefix(r, "{["):
			batches++
		default:
			failed++
		}
	}
	t.Logf("%d ok, %d failed, %d batches; %d hosts, %d flavors", ok, failed, batches, len(f.Hosts()), len(f.Flavors()))
	if ok < 50 || failed < 50 || batches < 20 {
		t.Errorf("log too uniform: %d ok, %d failed, %d batches", ok, failed, batches)
	}
	if len(f.Hosts()) == 0 || len(f.Flavors()) == 0 {
		t.Errorf("log left %d hosts and %d flavors, want some of each", len(f.Hosts()), len(f.Flavors()))
	}
}

func equalLogs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// countResults replays log on a fresh FSM and counts, per command type
// (batch entries included), how many were applied and how many succeeded.
func countResults(t *testing.T, log [][]byte, ok, total map[fsm.Type]int) {
	t.Helper()
	f := fsm.New()
	for i, data := range log {
		c, err := fsm.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		res := f.ApplyEntry(uint64(i+1), data)
		if b, isBatch := c.(*fsm.Batch); isBatch {
			for k, e := range b.Entries {
				total[fsm.Type(e[0])]++
				if res.(fsm.BatchResult).Errors[k] == nil {
					ok[fsm.Type(e[0])]++
				}
			}
			continue
		}
		total[c.Type()]++
		if res == nil {
			ok[c.Type()]++
		}
	}
}

// assertLogExercisesCompute guards against a generator whose compute commands
// all fail or all succeed: across the seeds, each command type must succeed
// now and then (and each compute one fail now and then), and servers must go
// through the main statuses.
func assertLogExercisesCompute(t *testing.T, ok, total map[fsm.Type]int, seen map[string]int) {
	t.Helper()
	types := []fsm.Type{fsm.TypeSetQuota}
	for typ := fsm.TypeBootstrap; typ <= fsm.TypeRemoveImageLocation; typ++ {
		types = append(types, typ)
	}
	for _, typ := range types {
		t.Logf("%-22s %3d of %3d ok", typ, ok[typ], total[typ])
		if ok[typ] == 0 || (typ >= fsm.TypeUpdateHostInventory && ok[typ] == total[typ]) {
			t.Errorf("%s: %d of %d succeeded; want some successes and some failures", typ, ok[typ], total[typ])
		}
	}
	for typ := fsm.TypeCreateProject; typ <= fsm.TypeRemoveGossipKey; typ++ {
		t.Logf("%-22s %3d of %3d ok", typ, ok[typ], total[typ])
		if ok[typ] == 0 || ok[typ] == total[typ] {
			t.Errorf("%s: %d of %d succeeded; want some successes and some failures", typ, ok[typ], total[typ])
		}
	}
	for _, typ := range append(append(typesBetween(fsm.TypeCreateNetwork, fsm.TypeUpdateSecurityGroup), adminTypes...),
		fsm.TypeAddInstanceTag, fsm.TypeDeleteInstanceTag, fsm.TypeSetInstanceTags, fsm.TypeDrainHost) {
		t.Logf("%-22s %3d of %3d ok", typ, ok[typ], total[typ])
		if ok[typ] == 0 || ok[typ] == total[typ] {
			t.Errorf("%s: %d of %d succeeded; want some successes and some failures", typ, ok[typ], total[typ])
		}
	}
	t.Logf("statuses seen: %v", seen)
	for _, s := range []string{"BUILD", "ACTIVE", "SHUTOFF", "ERROR", "PAUSED", "SUSPENDED", "REBOOT", "HARD_REBOOT"} {
		if seen[s] == 0 {
			t.Errorf("no server was ever %s", s)
		}
	}
}

// typesBetween are the command types from first to last.
func typesBetween(first, last fsm.Type) []fsm.Type {
	var out []fsm.Type
	for typ := first; typ <= last; typ++ {
		out = append(out, typ)
	}
	return out
}
