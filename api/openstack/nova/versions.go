package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerVersions(r api.Router) {}
