package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerFlavors(r api.Router) {}
