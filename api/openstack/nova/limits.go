package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerLimits(r api.Router) {}
