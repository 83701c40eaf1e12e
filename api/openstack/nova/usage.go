package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerUsage(r api.Router) {}
