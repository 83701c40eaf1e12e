package nova

import "github.com/shoal-project/shoal/api"

func (m *Module) registerQuotas(r api.Router) {}
