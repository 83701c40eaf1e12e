// Package scheduler places pending instances on hosts. It runs on the Raft
// leader only: Run reads a consistent SchedulingView, places a batch of
// pending instances by filtering and weighing a bounded random sample of
// hosts (Nova's filter and weigher names, power of k choices), and commits
// the batch as one fsm.Plan through a Planner. The FSM re-checks every
// placement at commit and is the authority; the scheduler only proposes.
//
// The package sees the cluster through the State, Liveness and Planner
// interfaces it declares, so it is tested without Raft or gossip.
package scheduler
