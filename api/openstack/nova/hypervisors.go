package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerHypervisors(r api.Router) {}
