package nova

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// os-services from 2.53: a service is named by its UUID (osapi.HostUUID
// of kind "service"), updated by PUT os-services/{uuid} and answered in
// full; DELETE takes the UUID from 2.53 and the integer id below it.

func (m *Module) serviceUUID(host string) string {
	return osapi.HostUUID(m.ops.ClusterID(), "service", host)
}

// serviceByID finds the host of a service id as the request's version
// names it; a malformed id is Nova's 400, an unknown one its 404.
func (m *Module) serviceByID(r *http.Request) (api.Host, error) {
	id := r.PathValue("id")
	byUUID := osapi.Requested(r.Context()).AtLeast(2, 53)
	var index uint64
	if byUUID {
		if _, err := uuid.Parse(id); err != nil {
			return api.Host{}, badRequest("Invalid uuid %s", id)
		}
	} else {
		n, err := strconv.ParseUint(id, 10, 64)
		if err != nil {
			return api.Host{}, badRequest("Invalid input received: id must be an integer")
		}
		index = n
	}
	hosts, err := m.ops.Hosts(r.Context())
	if err != nil {
		return api.Host{}, err
	}
	for _, h := range hosts {
		if byUUID && m.serviceUUID(h.Name) == id || !byUUID && h.CreateIndex == index {
			return h, nil
		}
	}
	return api.Host{}, &fault{status: http.StatusNotFound, message: "Service " + id + " could not be found."}
}

// updateServiceByUUID is 2.53's PUT: status (with an optional
// disabled_reason when disabling) and/or forced_down.
func (m *Module) updateServiceByUUID(w http.ResponseWriter, r *http.Request) {
	// Nova's order: the body's schema, the id, the service, then the
	// checks across fields.
	body, err := readObject(w, r)
	if err == nil {
		err = onlyKeys("", body, "status", "disabled_reason", "forced_down")
	}
	var status, reason string
	var down *bool
	if err == nil {
		status, reason, down, err = serviceUpdate(body)
	}
	var h api.Host
	if err == nil {
		h, err = m.serviceByID(r)
	}
	if err == nil {
		reason, err = serviceUpdateAsked(status, reason, down)
	}
	if err == nil && status != "" {
		_, h, err = m.ops.SetHostEnabled(r.Context(), h.Name, status == "enabled", reason)
	}
	if err == nil && down != nil {
		_, h, err = m.ops.ForceHostDown(r.Context(), h.Name, *down)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Service{"service": m.serviceView(r, h)})
}

// serviceUpdate reads 2.53's body as Nova's schema does: status
// "enabled" or "disabled" ("" when absent), disabled_reason 1 to 255
// characters, forced_down a boolean (nil when absent).
func serviceUpdate(body map[string]json.RawMessage) (status, reason string, down *bool, err error) {
	if raw, ok := body["status"]; ok {
		if status, err = stringField("status", raw); err != nil {
			return "", "", nil, err
		}
		if status != "enabled" && status != "disabled" {
			return "", "", nil, invalidInput("status", raw, "'"+status+"' is not one of ['enabled', 'disabled']")
		}
	}
	if raw, ok := body["disabled_reason"]; ok {
		if reason, err = stringField("disabled_reason", raw); err != nil {
			return "", "", nil, err
		}
		if reason == "" || len(reason) > 255 {
			return "", "", nil, invalidInput("disabled_reason", raw, "It must be 1 to 255 characters long")
		}
	}
	if raw, ok := body["forced_down"]; ok {
		b, err := boolField("forced_down", raw)
		if err != nil {
			return "", "", nil, err
		}
		down = &b
	}
	return status, reason, down, nil
}

// serviceUpdateAsked is Nova's check that the body asks for something
// (status or forced_down) and gives a reason only to disable; the reason
// kept is "" unless the status is set.
func serviceUpdateAsked(status, reason string, down *bool) (string, error) {
	switch {
	case status == "enabled" && reason != "":
		return "", badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
	case status == "" && down == nil:
		return "", badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.")
	case status == "":
		return "", nil
	}
	return reason, nil
}

// deleteService is Nova's DELETE os-services/{id}: 204, 409 while the
// host has servers.
func (m *Module) deleteService(w http.ResponseWriter, r *http.Request) {
	h, err := m.serviceByID(r)
	if err == nil {
		err = m.ops.DeleteService(r.Context(), h.Name)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
