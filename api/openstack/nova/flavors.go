package nova

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Flavors at 2.1. What a caller sees is api's rule (public flavors, and
// private ones its project was given, all of them for an admin); the
// is_public filter, Nova's sort, limit and marker are the dialect's.

// Flavor is a flavor in the detailed list, show and create at 2.1.
type Flavor struct {
	ID         string       `json:"id"`
	Name       string       `json:"name"`
	VCPUs      int          `json:"vcpus"`
	RAM        int          `json:"ram"`
	Disk       int          `json:"disk"`
	Ephemeral  int          `json:"OS-FLV-EXT-DATA:ephemeral"`
	Swap       any          `json:"swap"` // "" for none below 2.75, else MiB
	RxtxFactor float64      `json:"rxtx_factor"`
	IsPublic   bool         `json:"os-flavor-access:is_public"`
	Disabled   bool         `json:"OS-FLV-DISABLED:disabled"`
	Links      []osapi.Link `json:"links"`
	*FlavorDescription
	ExtraSpecs *map[string]string `json:"extra_specs,omitempty"` // from 2.61
}

// FlavorDescription is 2.55's description, null when the flavor has none.
type FlavorDescription struct {
	Description *string `json:"description"`
}

// FlavorRef is a flavor in the plain list (its description from 2.55).
type FlavorRef struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	Links []osapi.Link `json:"links"`
	*FlavorDescription
}

// descriptionOf is f's description when the request's version shows it.
func descriptionOf(r *http.Request, f fsm.Flavor) *FlavorDescription {
	if !osapi.Requested(r.Context()).AtLeast(2, 55) {
		return nil
	}
	return &FlavorDescription{Description: nullable(f.Description)}
}

func (m *Module) registerFlavors(r api.Router) {
	m.route(r, "GET /flavors", api.AccessAuthenticated, func(w http.ResponseWriter, r *http.Request) { m.listFlavors(w, r, false) })
	m.route(r, "GET /flavors/detail", api.AccessAuthenticated, func(w http.ResponseWriter, r *http.Request) { m.listFlavors(w, r, true) })
	m.route(r, "GET /flavors/{id}", api.AccessAuthenticated, m.showFlavor)
	m.route(r, "POST /flavors", api.AccessAdmin, m.createFlavor)
	m.route(r, "DELETE /flavors/{id}", api.AccessAdmin, m.deleteFlavor)
	m.route(r, "PUT /flavors/{id}", api.AccessAdmin, m.updateFlavor, osapi.Since(2, 55))
	m.registerExtraSpecs(r)
	m.registerFlavorAccess(r)
}

// flavorView is f as the request's version shows it: swap "" for none
// below 2.75, the description from 2.55, the extra specs from 2.61 (a
// caller who sees the flavor may read them).
func flavorView(r *http.Request, f fsm.Flavor) Flavor {
	v := osapi.Requested(r.Context())
	var swap any = ""
	if f.Swap != 0 || v.AtLeast(2, 75) {
		swap = f.Swap
	}
	out := Flavor{ID: f.ID, Name: f.Name, VCPUs: f.VCPUs, RAM: f.RAM, Disk: f.Disk, Ephemeral: f.Ephemeral,
		Swap: swap, RxtxFactor: f.EffectiveRxtxFactor(), IsPublic: f.IsPublic(), Links: links(r, "/flavors/"+url.PathEscape(f.ID)),
		FlavorDescription: descriptionOf(r, f)}
	if v.AtLeast(2, 61) {
		specs := maps.Clone(f.ExtraSpecs)
		if specs == nil {
			specs = map[string]string{}
		}
		out.ExtraSpecs = &specs
	}
	return out
}

// flavorNotFound words a missing flavor as Nova does.
func flavorNotFound(err error, id string) error {
	if api.StatusOf(err) == http.StatusNotFound {
		return &fault{status: http.StatusNotFound, message: "Flavor " + id + " could not be found."}
	}
	return err
}

func (m *Module) showFlavor(w http.ResponseWriter, r *http.Request) {
	f, err := m.ops.Flavor(r.Context(), r.PathValue("id"))
	if err != nil {
		m.fail(w, r, flavorNotFound(err, r.PathValue("id")))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Flavor{"flavor": flavorView(r, f)})
}

// flavorSortKeys are Nova's sort keys we can sort by, with the order each
// gives; flavorid is the default.
var flavorSortKeys = map[string]func(a, b fsm.Flavor) int{
	"flavorid":     func(a, b fsm.Flavor) int { return strings.Compare(a.ID, b.ID) },
	"id":           func(a, b fsm.Flavor) int { return cmp.Compare(a.CreateIndex, b.CreateIndex) },
	"name":         func(a, b fsm.Flavor) int { return strings.Compare(a.Name, b.Name) },
	"memory_mb":    func(a, b fsm.Flavor) int { return cmp.Compare(a.RAM, b.RAM) },
	"vcpus":        func(a, b fsm.Flavor) int { return cmp.Compare(a.VCPUs, b.VCPUs) },
	"root_gb":      func(a, b fsm.Flavor) int { return cmp.Compare(a.Disk, b.Disk) },
	"ephemeral_gb": func(a, b fsm.Flavor) int { return cmp.Compare(a.Ephemeral, b.Ephemeral) },
	"swap":         func(a, b fsm.Flavor) int { return cmp.Compare(a.Swap, b.Swap) },
	"rxtx_factor":  func(a, b fsm.Flavor) int { return cmp.Compare(a.EffectiveRxtxFactor(), b.EffectiveRxtxFactor()) },
	"is_public":    func(a, b fsm.Flavor) int { return boolCompare(a.IsPublic(), b.IsPublic()) },
	"description":  func(a, b fsm.Flavor) int { return strings.Compare(a.Description, b.Description) },
	"created_at":   func(a, b fsm.Flavor) int { return a.Created.Compare(b.Created) },
	"disabled":     func(a, b fsm.Flavor) int { return 0 },
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// flavorQuery is a list request: Nova's filters, sort and page.
type flavorQuery struct {
	public          *bool // nil: both; only an admin may ask for other than true
	minRAM, minDisk int
	sort            func(a, b fsm.Flavor) int
	desc            bool
	limit           int
	marker          string
}

// flavorListParams are the parameters of Nova's flavor list query schema:
// any other is ignored below 2.75 and refused from it.
var flavorListParams = []string{"limit", "marker", "is_public", "minRam", "minDisk", "sort_key", "sort_dir"}

// parseFlavorQuery reads what Nova's flavor list reads.
func parseFlavorQuery(q url.Values, admin bool) (flavorQuery, error) {
	yes := true
	fq := flavorQuery{public: &yes, sort: flavorSortKeys["flavorid"], limit: maxPage}
	if admin && q.Has("is_public") {
		v := q.Get("is_public")
		switch b, ok := parseBool(v); {
		case strings.EqualFold(v, "none"):
			fq.public = nil
		case ok:
			fq.public = &b
		default:
			return fq, badRequest("Invalid is_public filter [%s]", v)
		}
	}
	for _, p := range []struct {
		name string
		into *int
	}{{"minRam", &fq.minRAM}, {"minDisk", &fq.minDisk}} {
		if v := q.Get(p.name); q.Has(p.name) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fq, badRequest("Invalid %s filter [%s]", p.name, v)
			}
			*p.into = n
		}
	}
	if k := q.Get("sort_key"); k != "" {
		if fq.sort = flavorSortKeys[k]; fq.sort == nil {
			return fq, badRequest("Invalid input for query parameters sort_key. Value: %s.", k)
		}
	}
	switch d := q.Get("sort_dir"); d {
	case "", "asc":
	case "desc":
		fq.desc = true
	default:
		return fq, badRequest("Invalid input for query parameters sort_dir. Value: %s.", d)
	}
	var err error
	fq.limit, fq.marker, _, err = page(q)
	return fq, err
}

// picks reports whether the list shows f, one of the flavors api lets the
// caller see. Only an admin's list is filtered by is_public: true (the
// default) keeps the public flavors and the private ones the admin's own
// project was given, as Nova's does; false the private ones; none all.
func (fq flavorQuery) picks(f fsm.Flavor, admin bool, project string) bool {
	switch {
	case f.RAM < fq.minRAM || f.Disk < fq.minDisk:
		return false
	case !admin || fq.public == nil:
		return true
	case *fq.public:
		return f.VisibleTo(project)
	}
	return !f.IsPublic()
}

func (m *Module) listFlavors(w http.ResponseWriter, r *http.Request, detail bool) {
	p := m.ops.Principal(r.Context())
	err := onlyQuerySince(r, 2, 75, flavorListParams...)
	var fq flavorQuery
	if err == nil {
		fq, err = parseFlavorQuery(r.URL.Query(), p.Admin())
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	var picked []fsm.Flavor
	for _, f := range m.ops.Flavors(r.Context()) {
		if fq.picks(f, p.Admin(), p.ProjectID) {
			picked = append(picked, f)
		}
	}
	slices.SortStableFunc(picked, func(a, b fsm.Flavor) int {
		c := fq.sort(a, b)
		if c == 0 {
			c = cmp.Compare(a.CreateIndex, b.CreateIndex)
		}
		if fq.desc {
			return -c
		}
		return c
	})
	picked, next, err := pageOf(picked, fq.limit, fq.marker, func(f fsm.Flavor) string { return f.ID })
	if err != nil {
		m.fail(w, r, err)
		return
	}
	collection := "/flavors"
	if detail {
		collection += "/detail"
	}
	body := map[string]any{}
	if detail {
		out := []Flavor{}
		for _, f := range picked {
			out = append(out, flavorView(r, f))
		}
		body["flavors"] = out
	} else {
		out := []FlavorRef{}
		for _, f := range picked {
			out = append(out, FlavorRef{ID: f.ID, Name: f.Name, Links: links(r, "/flavors/"+url.PathEscape(f.ID)),
				FlavorDescription: descriptionOf(r, f)})
		}
		body["flavors"] = out
	}
	if next != "" {
		body["flavors_links"] = nextLink(r, collection, next)
	}
	api.WriteJSON(w, http.StatusOK, body)
}

func (m *Module) deleteFlavor(w http.ResponseWriter, r *http.Request) {
	if _, err := m.ops.DeleteFlavor(r.Context(), r.PathValue("id")); err != nil {
		m.fail(w, r, flavorNotFound(err, r.PathValue("id")))
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// flavorExists words api's conflict as Nova does: the ID or the name
// is taken.
func (m *Module) flavorExists(r *http.Request, err error, c api.FlavorCreate) error {
	if api.StatusOf(err) != http.StatusConflict {
		return err
	}
	if _, lookup := m.ops.Flavor(r.Context(), c.ID); c.ID != "" && lookup == nil {
		return fmt.Errorf("%w: Flavor with ID %s already exists.", fsm.ErrConflict, c.ID)
	}
	return fmt.Errorf("%w: Flavor with name %s already exists.", fsm.ErrConflict, c.Name)
}
