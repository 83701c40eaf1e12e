package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
	"github.com/shoal-project/shoal/scheduler"
)

// allAlive says every host is alive: the synthetic hosts have no gossip.
type allAlive map[string]bool

func (a allAlive) AliveHosts() map[string]bool { return a }

// nodePlanner commits plans through a node, as the agent wires it.
type nodePlanner struct{ n *cluster.Node }

func (p nodePlanner) SubmitPlan(ctx context.Context, plan *fsm.Plan) (uint64, error) {
	return p.n.Apply(ctx, plan)
}

// BenchmarkPlaceCommitted measures placements committed through a 3-voter
// Raft cluster on loopback with the bolt store (fsync on): synthetic hosts are
// registered directly in Raft, b.N servers are created pending, and the
// scheduler on the leader places them all. Reported as placements/s.
func BenchmarkPlaceCommitted(b *testing.B) {
	for _, hosts := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("hosts=%d", hosts), func(b *testing.B) {
			c := clustertest.New(b, 3, func(cfg *cluster.Config) { cfg.NetworkCIDR = "10.64.0.0/10" })
			l := c.Nodes[c.WaitForLeader(30*time.Second)]
			testkit.WaitFor(b, 30*time.Second, "the cluster identity", func() bool { return l.FSM().ClusterID() != "" })
			alive := registerHosts(b, l, hosts)
			apply(b, l, &fsm.CreateImage{Image: fsm.Image{ID: "img", Name: "img", DiskFormat: "qcow2",
				ContainerFormat: "bare", Status: "active"}})
			createPending(b, l, b.N)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sched := scheduler.New(scheduler.Config{Logger: slog.New(slog.DiscardHandler)}, l.FSM(), alive, nodePlanner{l.Node})
			b.ResetTimer()
			start := time.Now()
			done := make(chan struct{})
			go func() { defer close(done); sched.Run(ctx) }()
			for len(l.FSM().SchedulingView(1).Pending) > 0 {
				<-l.FSM().WatchCh()
			}
			elapsed := time.Since(start)
			b.StopTimer()
			cancel()
			<-done
			placed := 0
			for _, u := range l.FSM().Usage() {
				placed += u.Instances
			}
			if placed != b.N {
				b.Fatalf("%d of %d servers placed", placed, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "placements/s")
		})
	}
}

func apply(b *testing.B, n *clustertest.Node, c fsm.Command) {
	b.Helper()
	if _, err := n.Apply(context.Background(), c); err != nil {
		b.Fatalf("apply %T: %v", c, err)
	}
}

// registerHosts adds synthetic hosts (64 vCPUs, 256 GiB, 2 TiB) concurrently,
// so group commit batches them.
func registerHosts(b *testing.B, n *clustertest.Node, count int) allAlive {
	b.Helper()
	alive := allAlive{}
	var wg sync.WaitGroup
	errs := make(chan error, count)
	sem := make(chan struct{}, 128)
	for i := 0; i < count; i++ {
		name := fmt.Sprintf("synth%05d", i)
		alive[name] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx := context.Background()
			if _, err := n.Apply(ctx, &fsm.RegisterHost{Name: name, Time: time.Unix(1, 0).UTC()}); err != nil {
				errs <- err
				return
			}
			_, err := n.Apply(ctx, &fsm.UpdateHostInventory{Name: name, Inventory: fsm.Inventory{VCPUs: 64, MemoryMiB: 262144, DiskGiB: 2048,
				Arch: "x86_64", HypervisorType: "QEMU", Zone: "nova"}})
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("registering hosts: %v", err)
	}
	return alive
}

// createPending creates count servers of mixed flavors, 100 per command.
func createPending(b *testing.B, n *clustertest.Node, count int) {
	b.Helper()
	flavors := []string{"1", "2", "2", "3", "4"}
	for done := 0; done < count; {
		cmd := &fsm.CreateInstances{RequestID: "bench", Time: time.Unix(2, 0).UTC()}
		for k := 0; k < 100 && done < count; k++ {
			cmd.Instances = append(cmd.Instances, fsm.NewInstance{ID: fmt.Sprintf("i%07d", done),
				Name: fmt.Sprintf("vm%d", done), FlavorID: flavors[done%len(flavors)], ImageID: "img"})
			done++
		}
		apply(b, n, cmd)
	}
}
