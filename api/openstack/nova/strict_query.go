package nova

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// strictQuery is Nova's query schema with additionalProperties false,
// from microversion 2.<since> on (2.75 for most lists): a parameter not
// allowed is 400 with jsonschema's message; below it, it is ignored.
func strictQuery(r *http.Request, since int, allowed ...string) error {
	if !osapi.Requested(r.Context()).AtLeast(2, since) {
		return nil
	}
	var extra []string
	for k := range r.URL.Query() {
		if !slices.Contains(allowed, k) {
			extra = append(extra, "'"+k+"'")
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	verb := "was"
	if len(extra) > 1 {
		verb = "were"
	}
	return badRequest("%s", fmt.Sprintf("Additional properties are not allowed (%s %s unexpected)", strings.Join(extra, ", "), verb))
}
