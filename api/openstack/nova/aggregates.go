package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerAggregates(r api.Router) {}
