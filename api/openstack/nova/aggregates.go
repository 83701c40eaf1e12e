package nova

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// os-aggregates (an admin's): host aggregates over api.Ops, whose fsm
// commands hold every rule. An aggregate's availability_zone metadata is
// its hosts' zone (what services, hypervisors, zones and the scheduler
// show and use); the rest of the metadata is stored only. The uuid shows
// from 2.41.

// Aggregate is Nova's aggregate view; create leaves out hosts and
// metadata.
type Aggregate struct {
	ID        uint64             `json:"id"`
	UUID      string             `json:"uuid,omitempty"`
	Name      string             `json:"name"`
	Zone      *string            `json:"availability_zone"`
	Hosts     *[]string          `json:"hosts,omitempty"`
	Metadata  *map[string]string `json:"metadata,omitempty"`
	CreatedAt string             `json:"created_at"`
	UpdatedAt *string            `json:"updated_at"`
	DeletedAt *string            `json:"deleted_at"`
	Deleted   bool               `json:"deleted"`
}

func (m *Module) registerAggregates(r api.Router) {
	m.route(r, "GET /os-aggregates", api.AccessAdmin, m.listAggregates)
	m.route(r, "POST /os-aggregates", api.AccessAdmin, m.createAggregate)
	m.route(r, "GET /os-aggregates/{id}", api.AccessAdmin, m.showAggregate)
	m.route(r, "PUT /os-aggregates/{id}", api.AccessAdmin, m.updateAggregate)
	m.route(r, "DELETE /os-aggregates/{id}", api.AccessAdmin, m.deleteAggregate)
	m.route(r, "POST /os-aggregates/{id}/action", api.AccessAdmin, m.aggregateAction)
}

func aggregateView(r *http.Request, a fsm.Aggregate, full bool) Aggregate {
	v := Aggregate{ID: a.ID, Name: a.Name, Zone: nullable(a.Zone()), CreatedAt: naiveTime(a.Created),
		UpdatedAt: nullable(naiveTime(a.Updated))}
	if full {
		v.Hosts, v.Metadata = &a.Hosts, &a.Metadata
	}
	if osapi.Requested(r.Context()).AtLeast(2, 41) {
		v.UUID = a.UUID
	}
	return v
}

func (m *Module) listAggregates(w http.ResponseWriter, r *http.Request) {
	aggs, err := m.ops.Aggregates(r.Context())
	if err != nil {
		m.fail(w, r, err)
		return
	}
	out := make([]Aggregate, len(aggs))
	for i, a := range aggs {
		out[i] = aggregateView(r, a, true)
	}
	api.WriteJSON(w, http.StatusOK, map[string][]Aggregate{"aggregates": out})
}

// aggregateID reads the {id} of the path as Nova's validate_integer does:
// not an integer is 400; a negative one is an aggregate not found.
func aggregateID(r *http.Request) (uint64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	switch {
	case err != nil:
		return 0, badRequest("Invalid input received: id must be an integer")
	case id < 0:
		return 0, notFound("Aggregate %d could not be found.", id)
	}
	return uint64(id), nil
}

func (m *Module) showAggregate(w http.ResponseWriter, r *http.Request) {
	id, err := aggregateID(r)
	var a fsm.Aggregate
	if err == nil {
		a, err = m.ops.Aggregate(r.Context(), id)
	}
	m.answerAggregate(w, r, a, err)
}

func (m *Module) answerAggregate(w http.ResponseWriter, r *http.Request, a fsm.Aggregate, err error) {
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Aggregate{"aggregate": aggregateView(r, a, true)})
}

// zoneField is an aggregate's availability_zone: a name, or null (none).
func zoneField(raw json.RawMessage) (*string, error) {
	if isNull(raw) {
		return nil, nil
	}
	z, err := name("availability_zone", raw)
	return &z, err
}

// createAggregate takes {"aggregate":{"name": …, "availability_zone"?: …}}
// and answers 200 without hosts and metadata, as Nova.
func (m *Module) createAggregate(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	var agg map[string]json.RawMessage
	if err == nil {
		err = onlyKeys("", body, "aggregate")
	}
	if err == nil {
		err = required("", body, "aggregate")
	}
	if err == nil {
		agg, err = member(body, "aggregate", "name", "availability_zone")
	}
	if err == nil {
		err = required("aggregate", agg, "name")
	}
	var n string
	var zone *string
	if err == nil {
		n, err = name("name", agg["name"])
	}
	if raw, ok := agg["availability_zone"]; ok && err == nil {
		zone, err = zoneField(raw)
	}
	var a fsm.Aggregate
	if err == nil {
		z := ""
		if zone != nil {
			z = *zone
		}
		a, err = m.ops.CreateAggregate(r.Context(), n, z)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]Aggregate{"aggregate": aggregateView(r, a, false)})
}

// updateAggregate takes {"aggregate":{"name"?, "availability_zone"?}}
// (one at least); a zone is the availability_zone metadata.
func (m *Module) updateAggregate(w http.ResponseWriter, r *http.Request) {
	id, err := aggregateID(r)
	var body, agg map[string]json.RawMessage
	if err == nil {
		body, err = readObject(w, r)
	}
	if err == nil {
		err = onlyKeys("", body, "aggregate")
	}
	if err == nil {
		err = required("", body, "aggregate")
	}
	if err == nil {
		agg, err = member(body, "aggregate", "name", "availability_zone")
	}
	if err == nil && len(agg) == 0 {
		err = invalidInput("aggregate", body["aggregate"], "{} is not valid under any of the given schemas")
	}
	var newName *string
	var metadata map[string]*string
	if raw, ok := agg["name"]; ok && err == nil {
		var n string
		n, err = boundedText("name", raw, 1, 255)
		newName = &n
	}
	if raw, ok := agg["availability_zone"]; ok && err == nil {
		var zone *string
		zone, err = zoneField(raw)
		metadata = map[string]*string{fsm.AggregateZoneKey: zone}
	}
	var a fsm.Aggregate
	if err == nil {
		a, err = m.ops.UpdateAggregate(r.Context(), id, newName, metadata, false)
	}
	m.answerAggregate(w, r, a, err)
}

func (m *Module) deleteAggregate(w http.ResponseWriter, r *http.Request) {
	id, err := aggregateID(r)
	if err == nil {
		err = m.ops.DeleteAggregate(r.Context(), id)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// hostPattern is Nova's fqdn format of a host in add_host/remove_host.
var hostPattern = regexp.MustCompile(`^[a-zA-Z0-9-._]*$`)

// aggregateAction is add_host, remove_host or set_metadata: the body's one
// key names it.
func (m *Module) aggregateAction(w http.ResponseWriter, r *http.Request) {
	id, err := aggregateID(r)
	var body map[string]json.RawMessage
	if err == nil {
		body, err = readObject(w, r)
	}
	if err != nil {
		m.fail(w, r, err)
		return
	}
	var a fsm.Aggregate
	switch {
	case len(body) != 1:
		err = badRequest("There is no such action: %s", actionNames(body))
	case body["add_host"] != nil || body["remove_host"] != nil:
		key := "add_host"
		if body["remove_host"] != nil {
			key = "remove_host"
		}
		var in map[string]json.RawMessage
		var host string
		in, err = member(body, key, "host")
		if err == nil {
			err = required(key, in, "host")
		}
		if err == nil {
			host, err = boundedText("host", in["host"], 1, 255)
		}
		if err == nil && !hostPattern.MatchString(host) {
			err = invalidInput(key+"/host", in["host"], fmt.Sprintf("'%s' does not match '^[a-zA-Z0-9-._]*$'", host))
		}
		if err == nil && key == "add_host" {
			a, err = m.ops.AddAggregateHost(r.Context(), id, host)
		} else if err == nil {
			a, err = m.ops.RemoveAggregateHost(r.Context(), id, host)
		}
	case body["set_metadata"] != nil:
		var in map[string]json.RawMessage
		var meta map[string]*string
		in, err = member(body, "set_metadata", "metadata")
		if err == nil {
			err = required("set_metadata", in, "metadata")
		}
		if err == nil {
			meta, err = nullableMetadata(in["metadata"])
		}
		if err == nil {
			a, err = m.ops.UpdateAggregate(r.Context(), id, nil, meta, true)
		}
	default:
		err = badRequest("There is no such action: %s", actionNames(body))
	}
	m.answerAggregate(w, r, a, err)
}

// nullableMetadata is Nova's metadata_with_null: keys of its pattern,
// values strings of up to 255 characters or null (remove the key).
func nullableMetadata(raw json.RawMessage) (map[string]*string, error) {
	obj, err := asObject("set_metadata/metadata", raw)
	if err != nil {
		return nil, err
	}
	out := map[string]*string{}
	for k, v := range obj {
		if !metadataKey.MatchString(k) {
			return nil, invalidInput("set_metadata/metadata", raw, fmt.Sprintf("Additional properties are not allowed ('%s' was unexpected)", k))
		}
		if isNull(v) {
			out[k] = nil
			continue
		}
		s, err := boundedText("set_metadata/metadata/"+k, v, 0, 255)
		if err != nil {
			return nil, err
		}
		out[k] = &s
	}
	return out, nil
}
