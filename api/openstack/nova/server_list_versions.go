package nova

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
)

// The list filters of microversions after 2.1 (Nova's index_query_v2NN
// and _get_server_search_options): 2.5 ip6; 2.26 tags, tags-any,
// not-tags, not-tags-any; 2.38 an unknown status is 400; 2.66
// changes-before; 2.73 locked; 2.83 more filters for non-admins.

// memberFiltersAt are the filters a non-admin may use at v.
func memberFiltersAt(v osapi.Version) []string {
	f := slices.Clone(memberFilters)
	add := func(ok bool, k ...string) {
		if ok {
			f = append(f, k...)
		}
	}
	add(v.AtLeast(2, 5), "ip6")
	add(v.AtLeast(2, 26), "tags", "tags-any", "not-tags", "not-tags-any")
	add(v.AtLeast(2, 66), "changes-before")
	add(v.AtLeast(2, 73), "locked")
	add(v.AtLeast(2, 83), "availability_zone", "config_drive", "key_name", "created_at", "launched_at",
		"terminated_at", "power_state", "task_state", "vm_state", "progress", "user_id")
	return f
}

// laterFilters are the parsed filters of later microversions.
type laterFilters struct {
	ip6                                *regexp.Regexp
	tags, tagsAny, notTags, notTagsAny []string
	locked                             *bool
	changesBefore                      time.Time
}

// parse reads the later filters get gives (those the caller may use),
// with the version's checks.
func (f *laterFilters) parse(get func(string) (string, bool), v osapi.Version, statuses []string, since time.Time) error {
	if v.AtLeast(2, 38) && len(statuses) > 0 && !knownStatus(statuses) {
		return badRequest("Invalid status value")
	}
	if s, ok := get("ip6"); ok && s != "" && v.AtLeast(2, 5) {
		re, err := regexp.Compile(s)
		if err != nil {
			return badRequest("Invalid input for query parameters ip6. Value: %s. '%s' is not a 'regex'", s, s)
		}
		f.ip6 = re
	}
	if v.AtLeast(2, 26) {
		for k, dst := range map[string]*[]string{"tags": &f.tags, "tags-any": &f.tagsAny, "not-tags": &f.notTags,
			"not-tags-any": &f.notTagsAny} {
			if s, ok := get(k); ok && s != "" {
				*dst = strings.Split(s, ",")
			}
		}
	}
	if s, ok := get("changes-before"); ok && v.AtLeast(2, 66) {
		t, err := parseTime(s)
		if err != nil {
			return badRequest("Invalid input for query parameters changes-before. Value: %s. '%s' is not a 'date-time'", s, s)
		}
		if !since.IsZero() && since.After(t) {
			return badRequest("The value of changes-since must be less than or equal to changes-before.")
		}
		f.changesBefore = t
	}
	if s, ok := get("locked"); ok && v.AtLeast(2, 73) {
		on, err := allTenants(s)
		if err != nil || strings.TrimSpace(s) == "" {
			return badRequest("Invalid input for query parameters locked. Value: %s. '%s' is not a valid boolean", s, s)
		}
		f.locked = &on
	}
	return nil
}

// knownStatus says whether one of statuses is a status Nova knows.
func knownStatus(statuses []string) bool {
	for _, byTask := range stateMap {
		for _, status := range byTask {
			if slices.ContainsFunc(statuses, func(s string) bool { return strings.EqualFold(s, status) }) {
				return true
			}
		}
	}
	return false
}

// matches applies the later filters to a listed server.
func (f laterFilters) matches(s serverRow) bool {
	has := func(t string) bool { return slices.Contains(s.inst.Tags, t) }
	switch {
	case f.ip6 != nil && !slices.ContainsFunc(s.d.Addresses, func(a api.ServerAddress) bool {
		return ipVersion(a.IP) == 6 && f.ip6.MatchString(a.IP)
	}):
		return false
	case len(f.tags) > 0 && !all(f.tags, has), len(f.tagsAny) > 0 && !slices.ContainsFunc(f.tagsAny, has):
		return false
	case len(f.notTags) > 0 && all(f.notTags, has), len(f.notTagsAny) > 0 && slices.ContainsFunc(f.notTagsAny, has):
		return false
	case !f.changesBefore.IsZero() && s.d.Updated.After(f.changesBefore):
		return false
	case f.locked != nil && s.d.Locked != *f.locked:
		return false
	}
	return true
}

func all(list []string, ok func(string) bool) bool {
	for _, x := range list {
		if !ok(x) {
			return false
		}
	}
	return true
}

// queryKeys275 are the parameters Nova's list takes from 2.75, which
// refuses any other (index_query_v275); joined tables and "_" names are
// refused before, as at every version.
var queryKeys275 = []string{"user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id",
	"ramdisk_id", "hostname", "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor",
	"reservation_id", "launched_at", "terminated_at", "availability_zone", "name", "display_name", "description",
	"display_description", "locked_by", "uuid", "root_device_name", "config_drive", "access_ip_v4", "access_ip_v6",
	"auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants", "soft_deleted", "deleted", "status",
	"changes-since", "ip", "ip6", "created_at", "limit", "marker", "tags", "tags-any", "not-tags", "not-tags-any",
	"changes-before", "locked"}

// serverListQuery refuses, from 2.75, a list parameter Nova does not know.
func serverListQuery(v osapi.Version, query map[string][]string) error {
	if !v.AtLeast(2, 75) {
		return nil
	}
	return unexpectedParams(query, func(k string) bool {
		return slices.Contains(queryKeys275, k) || strings.HasPrefix(k, "_") || slices.Contains(joinedFilters, k)
	})
}
