// Package agent is the composition of a shoal node: it builds the cluster
// node, the API, the compute driver, the image cache, the reconciler and its
// fence from one Config, and owns every goroutine it starts (New, Start,
// Shutdown). It lives beside the binary (cmd/shoal) because it is that
// binary's wiring, yet as a package of its own so the wiring is tested like
// any other code: cmd/shoal only maps flags onto Config.
//
// Four concerns of the agent live here, once:
//   - the lease settings, normalised in Config.WithDefaults from cluster's
//     defaults and handed to the node, its in-process fence and the fence
//     guard alike;
//   - the fence guard, the separate process that stops this host's domains
//     when the agent is gone and its lease has run out, and takes the
//     node's floating IPs and nftables tables away with them (FenceGuard;
//     the binary's hidden GuardCommand only parses its flags);
//   - the preflight, which refuses to start, with one line naming the fix,
//     on a host where the agent would fail later and over and over;
//   - becoming a member (Admit, before New): a node without a cluster
//     certificate trades its join token for one, or waits for `shoal join`
//     on its root-only local socket (ListenLocal), which then serves local
//     operator commands for the agent's life.
package agent
