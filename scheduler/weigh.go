package scheduler

import (
	"github.com/shoal-project/shoal/fsm"
)

// weigher is one of Nova's weighers: a raw value per host, normalised to
// 0..1 across the candidates and multiplied by its weight.
type weigher struct {
	name   string
	weight func(c *Config) float64
	// applies reports whether the weigher has anything to say about r.
	applies func(r *request) bool
	raw     func(h *hostState, host *fsm.Host, r *request) float64
}

var weighers = []weigher{
	{
		// Nova's RAMWeigher: free RAM, physical (not overcommitted) MiB.
		name:    "RAMWeigher",
		weight:  func(c *Config) float64 { return c.RAMWeight },
		applies: func(*request) bool { return true },
		raw:     func(h *hostState, _ *fsm.Host, _ *request) float64 { return float64(h.capacity.MemoryMiB - h.used.RAM) },
	},
	{
		// Nova's CPUWeigher: free vCPUs under the allocation ratio.
		name:    "CPUWeigher",
		weight:  func(c *Config) float64 { return c.CPUWeight },
		applies: func(*request) bool { return true },
		raw: func(h *hostState, _ *fsm.Host, r *request) float64 {
			return float64(fsm.Limit(h.capacity.VCPUs, r.ratios.CPU) - h.used.VCPUs)
		},
	},
	{
		name:    "NumInstancesWeigher",
		weight:  func(c *Config) float64 { return c.InstanceWeight },
		applies: func(*request) bool { return true },
		raw:     func(h *hostState, _ *fsm.Host, _ *request) float64 { return float64(h.used.Instances) },
	},
	{
		name:    "ServerGroupSoftAffinityWeigher",
		weight:  func(c *Config) float64 { return c.SoftAffinityWeight },
		applies: func(r *request) bool { return r.group != nil && r.group.policy == fsm.PolicySoftAffinity },
		raw:     func(_ *hostState, host *fsm.Host, r *request) float64 { return float64(r.group.hosts[host.Name]) },
	},
	{
		name:    "ServerGroupSoftAntiAffinityWeigher",
		weight:  func(c *Config) float64 { return c.SoftAntiAffinityWeight },
		applies: func(r *request) bool { return r.group != nil && r.group.policy == fsm.PolicySoftAntiAffinity },
		raw:     func(_ *hostState, host *fsm.Host, r *request) float64 { return -float64(r.group.hosts[host.Name]) },
	},
}

// tieEpsilon is how close two total weights must be to count as a tie.
const tieEpsilon = 1e-9

// pick weighs the candidate hosts (indexes into b.hosts) and returns the best,
// ties broken at random. Each weigher's raw values are normalised over the
// candidates as Nova's normalize does: (v-min)/(max-min), all 0 when equal.
func (b *batch) pick(s *Scheduler, r *request, cands []int32) int32 {
	if len(cands) == 1 {
		return cands[0]
	}
	score := b.score[:0]
	raw := b.raw[:0]
	for range cands {
		score = append(score, 0)
		raw = append(raw, 0)
	}
	for i := range weighers {
		w := &weighers[i]
		mult := w.weight(&s.cfg)
		if mult == 0 || !w.applies(r) {
			continue
		}
		lo, hi := 0.0, 0.0
		for k, c := range cands {
			v := w.raw(&b.states[c], &b.hosts[c], r)
			raw[k] = v
			if k == 0 || v < lo {
				lo = v
			}
			if k == 0 || v > hi {
				hi = v
			}
		}
		if hi == lo {
			continue // every candidate normalises to 0
		}
		scale := mult / (hi - lo)
		for k := range cands {
			score[k] += (raw[k] - lo) * scale
		}
	}
	b.score, b.raw = score, raw

	best, ties := 0, 0
	for k := range cands {
		switch d := score[k] - score[best]; {
		case k == 0 || d > tieEpsilon:
			best, ties = k, 1
		case d >= -tieEpsilon:
			// Reservoir sampling: each of the tied candidates wins with
			// equal probability, in one pass.
			ties++
			if s.rng.IntN(ties) == 0 {
				best = k
			}
		}
	}
	return cands[best]
}
