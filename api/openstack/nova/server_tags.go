package nova

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Server tags (2.26): GET/PUT/DELETE /servers/{id}/tags and
// /servers/{id}/tags/{tag}, Nova's server_tags.py. api keeps the rules
// (states, limits); this reads Nova's bodies and answers its shapes.

type tagsBody struct {
	Tags []string `json:"tags"`
}

func (m *Module) registerServerTags(r api.Router) {
	reader, member := api.AccessProjectReader, api.AccessProjectMember
	since := osapi.Since(2, 26)
	m.route(r, "GET /servers/{id}/tags", reader, m.listServerTags, since)
	m.route(r, "PUT /servers/{id}/tags", member, m.replaceServerTags, since)
	m.route(r, "DELETE /servers/{id}/tags", member, m.deleteServerTags, since)
	m.route(r, "GET /servers/{id}/tags/{tag}", reader, m.checkServerTag, since)
	m.route(r, "PUT /servers/{id}/tags/{tag}", member, m.addServerTag, since)
	m.route(r, "DELETE /servers/{id}/tags/{tag}", member, m.deleteServerTag, since)
}

func (m *Module) listServerTags(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id := r.PathValue("id")
	tags, err := m.ops.ServerTags(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, tagsBody{Tags: tags})
}

// checkServerTag is 204 when the server has the tag, 404 otherwise.
func (m *Module) checkServerTag(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id, tag := r.PathValue("id"), r.PathValue("tag")
	tags, err := m.ops.ServerTags(r.Context(), id)
	if err == nil && !slices.Contains(tags, tag) {
		err = notFound("Server %s has no tag '%s'", id, tag)
	}
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// replaceServerTags takes {"tags":[…]} and answers the tags as applied.
func (m *Module) replaceServerTags(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, err := readObject(w, r)
	if err == nil {
		err = topKeys(b, "tags")
	}
	var tags []string
	if err == nil {
		tags, err = serverTags("tags", b["tags"])
	}
	var idx uint64
	if err == nil {
		idx, tags, err = m.ops.SetServerTags(r.Context(), id, tags)
	}
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, tagsBody{Tags: tags})
}

// addServerTag answers 201 with the tag's Location when it is new, 204
// when the server had it.
func (m *Module) addServerTag(w http.ResponseWriter, r *http.Request) {
	id, tag := r.PathValue("id"), r.PathValue("tag")
	raw, _ := json.Marshal(tag)
	if _, err := deviceTag("tag", raw); err != nil {
		m.fail(w, r, badRequest("Tag '%s' is invalid. It must be a non empty string without characters '/' and ','.", tag))
		return
	}
	idx, added, err := m.ops.AddServerTag(r.Context(), id, tag)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	if !added {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Location", links(r, "/servers/"+id+"/tags/"+url.PathEscape(tag))[0].Href)
	w.WriteHeader(http.StatusCreated)
}

func (m *Module) deleteServerTag(w http.ResponseWriter, r *http.Request) {
	m.deleteTags(w, r, r.PathValue("tag"))
}

func (m *Module) deleteServerTags(w http.ResponseWriter, r *http.Request) {
	m.deleteTags(w, r, "")
}

func (m *Module) deleteTags(w http.ResponseWriter, r *http.Request, tag string) {
	id := r.PathValue("id")
	idx, err := m.ops.DeleteServerTag(r.Context(), id, tag)
	if err != nil {
		if !errors.Is(err, fsm.ErrNotFound) || tag == "" {
			err = instanceErr(id, err)
		} else if _, serr := m.ops.ServerTags(r.Context(), id); serr != nil {
			err = instanceErr(id, serr)
		}
		m.fail(w, r, err)
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}
