package nova

import (
	"encoding/json"
	"net/http"

	"github.com/shoal-project/shoal/api"
)

// rebuild: shoal cannot rebuild a server in place yet (no fsm command, no
// driver step), so it answers as Nova does for a feature its deployment
// lacks: 501 notImplemented, after the body is checked (400) and the
// server found (404) as for any action.
type rebuildCall struct{}

// rebuildKeys are the members of Nova's 2.1 rebuild schema.
var rebuildKeys = []string{"name", "imageRef", "adminPass", "metadata", "preserve_ephemeral", "OS-DCF:diskConfig",
	"accessIPv4", "accessIPv6", "personality"}

func parseRebuild(_ *http.Request, k string, v json.RawMessage) (call, error) {
	b, err := members(k, v, []string{"imageRef"}, rebuildKeys...)
	if err != nil {
		return nil, err
	}
	checks := map[string]func(string, json.RawMessage) error{
		"name":               func(f string, raw json.RawMessage) error { _, err := name(f, raw); return err },
		"imageRef":           func(f string, raw json.RawMessage) error { _, err := uuidText(f, raw); return err },
		"adminPass":          func(f string, raw json.RawMessage) error { _, err := stringField(f, raw); return err },
		"metadata":           func(f string, raw json.RawMessage) error { _, err := metadata(f, raw); return err },
		"preserve_ephemeral": func(f string, raw json.RawMessage) error { _, err := boolField(f, raw); return err },
		"accessIPv4":         func(f string, raw json.RawMessage) error { _, err := address(f, raw, false); return err },
		"accessIPv6":         func(f string, raw json.RawMessage) error { _, err := address(f, raw, true); return err },
		"OS-DCF:diskConfig": func(f string, raw json.RawMessage) error {
			_, err := enum(f, raw, "AUTO", "MANUAL")
			return err
		},
		"personality": refuseList,
	}
	for key, raw := range b {
		if err := checks[key](key, raw); err != nil {
			return nil, err
		}
	}
	return rebuildCall{}, nil
}

func (rebuildCall) run(m *Module, w http.ResponseWriter, r *http.Request, _ api.ServerDetail) {
	m.fail(w, r, failure(http.StatusNotImplemented, "The requested functionality is not supported."))
}
