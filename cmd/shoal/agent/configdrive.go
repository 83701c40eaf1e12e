package agent

import (
	"context"
	"fmt"

	"github.com/shoal-project/shoal/compute/metadata"
	"github.com/shoal-project/shoal/fsm"
)

// configDrive writes instance id's config drive to path: the libvirt
// driver's Config.ConfigDrive, called at every Define, so an evacuated or
// redefined server gets the metadata the replica holds then.
func (l laterNode) configDrive(_ context.Context, id, path string) error {
	n := l.n.Load()
	if n == nil {
		return errNodeNotReady
	}
	return writeConfigDrive(n.FSM().NetworkView(), id, path)
}

// writeConfigDrive builds the config drive of instance id from one
// consistent read of the replica, as the metadata service answers it.
func writeConfigDrive(nv fsm.NetworkView, id, path string) error {
	for _, inst := range nv.Instances {
		if inst.ID == id {
			return metadata.ConfigDrive(path, metadata.FromFSM(nv, inst))
		}
	}
	return fmt.Errorf("config drive of instance %s: %w", id, fsm.ErrNotFound)
}
