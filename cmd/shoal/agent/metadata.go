package agent

import (
	"context"
	"net/netip"

	"github.com/shoal-project/shoal/compute/libvirt"
	"github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
)

// startMetadata serves the metadata service on the tenant gateway at the
// node's metadata port (where the network reconciler DNATs guests'
// 169.254.169.254:80), with the libvirt driver only: it answers the guests
// on the bridge libvirt makes. A guest is found in the replica by its fixed
// IP among this host's instances, and checked against the bridge's
// neighbour table.
func (a *Agent) startMetadata(ctx context.Context, d *libvirt.Driver) {
	n := a.node
	resolver, err := metadata.NewNeighbourResolver(d.Bridge)
	if err != nil {
		a.log.Error("metadata service not started", "err", err)
		return
	}
	h, err := metadata.NewHandler(metadata.HandlerConfig{Guests: metadata.ReplicaGuests{Replica: n.FSM(), Host: n.Name()},
		Resolver: resolver, Logger: a.log})
	if err == nil {
		var s *metadata.Server
		s, err = metadata.NewServer(metadata.ServerConfig{Port: a.cfg.MetadataPort, Gateway: tenantGateway(n.FSM()),
			Watch: n.FSM().WatchCh, Handler: h, Logger: a.log})
		if err == nil {
			a.wg.Go(func() {
				defer resolver.Close()
				s.Run(ctx)
			})
			return
		}
	}
	resolver.Close()
	a.log.Error("metadata service not started", "err", err)
}

// tenantGateway is the tenant network's gateway as the replica says it is.
func tenantGateway(st interface {
	Network() (fsm.NetworkInfo, bool)
}) func() (netip.Addr, bool) {
	return func() (netip.Addr, bool) {
		n, ok := st.Network()
		if !ok {
			return netip.Addr{}, false
		}
		gw, err := netip.ParseAddr(n.Gateway)
		return gw, err == nil
	}
}
