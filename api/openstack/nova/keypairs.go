package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerKeyPairs(r api.Router) {}
