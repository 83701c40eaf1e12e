package nova

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/fsm"
)

// /servers/{id}/metadata[/{key}]: Nova's server metadata API. The body is
// checked as Nova's schema checks it (400) before the server is looked up
// (404); the rules (the lock, the metadata_items quota, the states a
// server's metadata may change in) are Ops' and the FSM's.

func (m *Module) listMetadata(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id := r.PathValue("id")
	md, err := m.ops.ServerMetadata(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"metadata": md})
}

// replaceMetadata is PUT: the body becomes the whole metadata.
func (m *Module) replaceMetadata(w http.ResponseWriter, r *http.Request) { m.setMetadata(w, r, true) }

// mergeMetadata is POST: the body's keys are set, the others kept.
func (m *Module) mergeMetadata(w http.ResponseWriter, r *http.Request) { m.setMetadata(w, r, false) }

// setMetadata answers 200 with the whole metadata as applied (Nova's 200,
// for both).
func (m *Module) setMetadata(w http.ResponseWriter, r *http.Request, replace bool) {
	id := r.PathValue("id")
	md, err := decodeMetadata(w, r, "metadata")
	var idx uint64
	if err == nil {
		idx, md, err = m.ops.SetServerMetadata(r.Context(), id, md, replace)
	}
	if err != nil {
		m.fail(w, r, m.metadataErr(r, id, "update metadata", err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"metadata": md})
}

// decodeMetadata reads {"<member>": {…}}, a metadata object.
func decodeMetadata(w http.ResponseWriter, r *http.Request, member string) (map[string]string, error) {
	b, err := readObject(w, r)
	if err == nil {
		err = topKeys(b, member)
	}
	if err != nil {
		return nil, err
	}
	return metadata(member, b[member])
}

func (m *Module) showMetadatum(w http.ResponseWriter, r *http.Request) {
	idx := m.ops.Index()
	id, key := r.PathValue("id"), r.PathValue("key")
	md, err := m.ops.ServerMetadata(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	v, ok := md[key]
	if !ok {
		m.fail(w, r, notFound("Metadata item was not found"))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"meta": {key: v}})
}

// setMetadatum is PUT of one key: {"meta": {key: value}}, exactly the key
// of the path (Nova's schema takes one item; another key is its 400
// "Request body and URI mismatch").
func (m *Module) setMetadatum(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	b, err := readObject(w, r)
	if err == nil {
		err = topKeys(b, "meta")
	}
	var meta map[string]string
	if err == nil {
		meta, err = metadata("meta", b["meta"])
	}
	if err == nil {
		err = oneItem(b["meta"], meta, key)
	}
	var idx uint64
	if err == nil {
		idx, err = m.ops.SetServerMetadataItem(r.Context(), id, key, meta[key])
	}
	if err != nil {
		m.fail(w, r, m.metadataErr(r, id, "update metadata", err))
		return
	}
	api.SetIndex(w, idx)
	api.WriteJSON(w, http.StatusOK, map[string]map[string]string{"meta": meta})
}

// oneItem is Nova's check of a one-key body: one property, the path's.
func oneItem(raw json.RawMessage, meta map[string]string, key string) error {
	switch {
	case len(meta) == 0:
		return invalidInput("meta", raw, fmt.Sprintf("%s does not have enough properties", truncated(raw)))
	case len(meta) > 1:
		return invalidInput("meta", raw, fmt.Sprintf("%s has too many properties", truncated(raw)))
	}
	if _, ok := meta[key]; !ok {
		return badRequest("Request body and URI mismatch")
	}
	return nil
}

func (m *Module) deleteMetadatum(w http.ResponseWriter, r *http.Request) {
	id, key := r.PathValue("id"), r.PathValue("key")
	md, err := m.ops.ServerMetadata(r.Context(), id)
	if err != nil {
		m.fail(w, r, instanceErr(id, err))
		return
	}
	if _, ok := md[key]; !ok {
		m.fail(w, r, notFound("Metadata item was not found"))
		return
	}
	idx, err := m.ops.DeleteServerMetadataItem(r.Context(), id, key)
	if err != nil {
		m.fail(w, r, m.metadataErr(r, id, "delete metadata", err))
		return
	}
	api.SetIndex(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

// metadataErr says a refused metadata change in Nova's words: a server
// that is not there is its 404, a state that does not allow the change
// its 409 (a lock keeps fsm's words, which are Nova's).
func (m *Module) metadataErr(r *http.Request, id, verb string, err error) error {
	if errors.Is(err, fsm.ErrNotFound) {
		if _, _, lerr := m.ops.Server(r.Context(), id); lerr != nil {
			return instanceErr(id, lerr)
		}
		return err
	}
	return stateErr(r, m, id, verb, err)
}
