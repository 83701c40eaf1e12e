package cluster_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-project/shoal/cluster"
	"github.com/shoal-project/shoal/cluster/clustertest"
	"github.com/shoal-project/shoal/fsm"
	"github.com/shoal-project/shoal/internal/testkit"
)

// BenchmarkApply measures committed small commands per second through a
// 3-voter cluster on loopback with the real bolt store (fsync on), proposing
// from many goroutines on the leader and on a follower. maxbatch=1 turns group
// commit off, for comparison.
func BenchmarkApply(b *testing.B) {
	for _, bc := range []struct {
		via      string
		maxBatch int
	}{{"leader", 256}, {"follower", 256}, {"leader", 1}} {
		b.Run(fmt.Sprintf("via=%s/maxbatch=%d", bc.via, bc.maxBatch), func(b *testing.B) {
			c := clustertest.New(b, 3, func(cfg *cluster.Config) { cfg.MaxBatch = bc.maxBatch })
			leader := c.WaitForLeader(30 * time.Second)
			testkit.WaitFor(b, 30*time.Second, "three voters and host records", func() bool {
				return len(c.Nodes[leader].FSM().Hosts()) == 3
			})
			target := c.Nodes[leader]
			if bc.via == "follower" {
				target = c.Nodes[(leader+1)%3]
			}
			host := target.Name()
			var failed atomic.Int64
			var firstErr atomic.Value
			b.SetParallelism(128) // 128 proposers per core
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					cmd := &fsm.SetHostEnabled{Name: host, Enabled: true, Time: time.Unix(1, 0).UTC()}
					if _, err := target.Apply(ctx, cmd); err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				}
			})
			elapsed := time.Since(start)
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d applies failed, the first with: %v", n, b.N, firstErr.Load())
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
		})
	}
}
