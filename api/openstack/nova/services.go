package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerServices(r api.Router) {}
