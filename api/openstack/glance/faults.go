package glance

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// errMediaType is a PATCH or upload with a media type Glance refuses (415).
var errMediaType = errors.New("unsupported media type")

// statusOf is err's status: the module's own errors first, then api's one
// table.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType
	}
	return api.StatusOf(err)
}

// message is err's text without its sentinel's prefix (the module's own
// sentinels' included).
func message(err error) string {
	for _, s := range []error{errMediaType, errTooLarge} {
		if errors.Is(err, s) {
			return strings.TrimPrefix(err.Error(), s.Error()+": ")
		}
	}
	return api.MessageOf(err)
}

// writeError writes err as Glance does; status 0 takes err's own.
func writeError(w http.ResponseWriter, status int, err error) {
	if status == 0 {
		status = statusOf(err)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	osapi.GlanceFault(w, status, message(err))
}

// imageNotFound is Glance's 404 for an image ID the caller cannot see.
func imageNotFound(id string) error {
	return fmt.Errorf("%w: No image found with ID %s", fsm.ErrNotFound, id)
}

func errMediaTypef(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errMediaType, fmt.Sprintf(format, a...))
}
