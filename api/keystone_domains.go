package api

import (
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/fsm"
)

// domainDoc is a domain as Keystone shows it. shoal has one domain, the
// bootstrap's "Default" (ID "default"): it is read, not created or changed.
type domainDoc struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	Tags        []string       `json:"tags"`
	Options     map[string]any `json:"options"`
	Links       links          `json:"links"`
}

func domainOf(r *http.Request, d fsm.Domain) domainDoc {
	return domainDoc{ID: d.ID, Name: d.Name, Description: "The default domain", Enabled: d.Enabled, Tags: []string{},
		Options: map[string]any{}, Links: links{Self: objectURL(r, "domains", d.ID)}}
}

// listDomains is GET /v3/domains with Keystone's name and enabled filters
// (Tempest's credential provider finds the domain it creates accounts in
// by name).
func (s *Server) listDomains(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	q := r.URL.Query()
	out := []domainDoc{}
	if d, err := s.state.Domain(fsm.DefaultDomainID); err == nil {
		name, named := q["name"]
		if (!named || strings.EqualFold(name[0], d.Name)) && keep(q, "id", d.ID) && keepEnabled(q, d.Enabled) {
			out = append(out, domainOf(r, d))
		}
	}
	SetIndex(w, idx)
	WriteJSON(w, http.StatusOK, map[string]any{"domains": out, "links": listLinks(r)})
}

// showDomain is GET /v3/domains/{id}: by ID only, as Keystone.
func (s *Server) showDomain(w http.ResponseWriter, r *http.Request) {
	idx := s.state.Index()
	id := r.PathValue("id")
	d, err := exact("domain", id, s.state.Domain, func(d fsm.Domain) string { return d.ID })
	s.writeFound(w, r, idx, err, func() any { return map[string]domainDoc{"domain": domainOf(r, d)} })
}
