package fsm_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/shoal-project/shoal/fsm"
)

// logGen builds a random but reproducible log. Names come from small pools so
// that conflicts, unknown objects and re-registrations happen often.
type logGen struct {
	rng  *rand.Rand
	seed uint64
}

func (g *logGen) pick(prefix string, n int) string {
	return fmt.Sprintf("%s%d", prefix, g.rng.IntN(n))
}

// command returns one non-batch command; about one in ten is invalid by construction.
func (g *logGen) command(index uint64) fsm.Command {
	// Whole seconds plus a fixed fraction, in UTC: what a proposer would stamp.
	at := t0.Add(time.Duration(index)*time.Second + 250*time.Millisecond)
	switch n := g.rng.IntN(100); {
	case n < 3:
		c := &fsm.Bootstrap{ClusterID: fmt.Sprintf("c-%d-%d", g.seed, index), Time: at, Flavors: fsm.DefaultFlavors()}
		if g.rng.IntN(3) == 0 {
			c.ClusterID = ""
		}
		return c
	case n < 30:
		c := registerHost(g.pick("h", 8), at)
		c.HTTPAddress = fmt.Sprintf("10.0.0.%d:8774", g.rng.IntN(4))
		if g.rng.IntN(12) == 0 {
			c.Name = ""
		}
		return c
	case n < 42:
		return &fsm.DeregisterHost{Name: g.pick("h", 8)}
	case n < 60:
		return &fsm.SetHostEnabled{Name: g.pick("h", 8), Enabled: g.rng.IntN(2) == 0, Reason: g.pick("reason-", 3), Time: at}
	case n < 85:
		return &fsm.CreateFlavor{Flavor: fsm.Flavor{
			ID:      g.pick("f", 10),
			Name:    g.pick("n", 10),
			VCPUs:   g.rng.IntN(5),        // 0 is invalid
			RAM:     g.rng.IntN(4) * 1024, // 0 is invalid
			Disk:    g.rng.IntN(42) - 1,   // -1 is invalid
			Created: at,
		}}
	default:
		return &fsm.DeleteFlavor{ID: g.pick("f", 10)}
	}
}

// entries returns n encoded log entries, about one in eight a batch.
func (g *logGen) entries(t testing.TB, n int) [][]byte {
	t.Helper()
	var log [][]byte
	for i := range n {
		index := uint64(i + 1)
		if g.rng.IntN(8) != 0 {
			log = append(log, encode(t, g.command(index)))
			continue
		}
		b := &fsm.Batch{}
		for range g.rng.IntN(6) { // zero to five entries
			b.Entries = append(b.Entries, encode(t, g.command(index)))
		}
		log = append(log, encode(t, b))
	}
	return log
}

func generateLog(t testing.TB, seed uint64, n int) [][]byte {
	t.Helper()
	g := &logGen{rng: rand.New(rand.NewPCG(seed, seed^0x5ca1ab1e)), seed: seed}
	return g.entries(t, n)
}

// replay applies log entries from index first on and describes each result,
// so that two replicas' answers can be compared too.
func replay(f *fsm.FSM, log [][]byte, first uint64) []string {
	var out []string
	for i, data := range log {
		res := f.Apply(&raft.Log{Index: first + uint64(i), Data: data})
		out = append(out, fmt.Sprint(res))
	}
	return out
}

func TestDeterministicReplicas(t *testing.T) {
	for _, seed := range []uint64{1, 2, 42} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			log := generateLog(t, seed, 400)
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

			assertLogExercisesFSM(t, a, resA)
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
