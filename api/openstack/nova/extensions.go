package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerExtensions(r api.Router) {}
