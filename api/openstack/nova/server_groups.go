package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerServerGroups(r api.Router) {}
