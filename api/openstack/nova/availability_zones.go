package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerAvailabilityZones(r api.Router) {}
