package agent

import (
	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/glance"
	"github.com/shoal-project/shoal/api/openstack/neutron"
	"github.com/shoal-project/shoal/api/openstack/nova"
)

// apiModules are the foreign API dialects every node serves beside /v1,
// each under its own prefix (api.Module): the OpenStack Compute, Image and
// Network APIs as their packages land. The api package never imports
// them; this list is where they meet it.
func apiModules() []api.Module {
	return []api.Module{nova.New(), glance.New(), neutron.New()}
}
