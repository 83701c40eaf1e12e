package neutron

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/openstack/osapi"
	"github.com/shoal-project/shoal/fsm"
)

// Neutron names every error with its exception class ("NetworkNotFound",
// "SecurityGroupInUse"…); clients such as the SDK show it and some branch on
// it. The status still comes from api.StatusOf, so a rule's verdict is
// api's: the module only picks the name and, where clients print it, the
// message Neutron words.

// fault is an error with the Neutron exception name it is answered with.
type fault struct {
	typ    string
	msg    string // Neutron's wording; "" keeps err's
	status int    // Neutron's status where it differs from api's (0: api's)
	err    error
}

func (f *fault) Error() string { return f.err.Error() }
func (f *fault) Unwrap() error { return f.err }

// named gives err Neutron's exception name typ (and, unless msg is "", its
// message); nil stays nil.
func named(err error, typ, msg string) error {
	if err == nil {
		return nil
	}
	return &fault{typ: typ, msg: msg, err: err}
}

// resource names one kind of Neutron object in error bodies.
type resource struct {
	notFound string // exception name: NetworkNotFound
	noun     string // as Neutron's message starts: "Network"
	verb     string // "could not be found." or "does not exist"
}

var (
	resNetwork  = resource{"NetworkNotFound", "Network", "could not be found."}
	resSubnet   = resource{"SubnetNotFound", "Subnet", "could not be found."}
	resPort     = resource{"PortNotFound", "Port", "could not be found."}
	resFIP      = resource{"FloatingIPNotFound", "Floating IP", "could not be found"}
	resGroup    = resource{"SecurityGroupNotFound", "Security group", "does not exist"}
	resRule     = resource{"SecurityGroupRuleNotFound", "Security group rule", "does not exist"}
	resNoObject = resource{}
)

// lookup names a failed lookup of res id: a not-found is Neutron's
// "<Resource>NotFound" with its message; anything else is left as it is.
func lookup(err error, res resource, id string) error {
	if err == nil || !errors.Is(err, fsm.ErrNotFound) || res.notFound == "" {
		return err
	}
	var f *fault
	if errors.As(err, &f) {
		return err // already named (a referenced object, not this one)
	}
	return named(err, res.notFound, fmt.Sprintf("%s %s %s", res.noun, id, res.verb))
}

// badRequest is a 400 with Neutron's generic name and msg as it is.
func badRequest(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return named(fmt.Errorf("%w: %s", fsm.ErrInvalid, msg), "HTTPBadRequest", msg)
}

// message is err's text for a Neutron body: its fault's wording, else its
// own without the sentinel's prefix.
func message(err error) string {
	var f *fault
	if errors.As(err, &f) && f.msg != "" {
		return f.msg
	}
	return api.MessageOf(err)
}

// withStatus answers err with status instead of api's: Neutron's
// OverQuota is a 409, where Nova's (api's) is a 403.
func withStatus(err error, status int) error {
	var f *fault
	if errors.As(err, &f) {
		f.status = status
	}
	return err
}

// statusOf is the status err is answered with when none is given.
func statusOf(err error) int {
	var f *fault
	if errors.As(err, &f) && f.status != 0 {
		return f.status
	}
	return api.StatusOf(err)
}

// typeOf is the exception name err is answered with at status, and
// whether a handler named it (its message is then Neutron's).
func typeOf(err error, status int) (string, bool) {
	var f *fault
	if errors.As(err, &f) && statusOf(err) == status {
		return f.typ, true
	}
	if errors.Is(err, fsm.ErrOverQuota) {
		return "OverQuota", false
	}
	return osapi.NeutronType(status), false
}

// writeError answers err in Neutron's dialect.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	(Module{}).WriteError(w, r, 0, err)
}

// policyMessage is Neutron's refusal of a route to a caller whose roles
// do not allow it: "rule:create_network is disallowed by policy", the
// action named from the method and the collection in the path.
func policyMessage(r *http.Request) string {
	verb := map[string]string{http.MethodPost: "create", http.MethodPut: "update", http.MethodDelete: "delete"}[r.Method]
	if verb == "" {
		verb = "get"
	}
	rest := strings.TrimPrefix(r.URL.Path, prefix+"/v2.0/")
	collection, _, _ := strings.Cut(rest, "/")
	noun := strings.TrimSuffix(strings.ReplaceAll(collection, "-", "_"), "s")
	if noun == "" {
		noun = "resource"
	}
	return fmt.Sprintf("rule:%s_%s is disallowed by policy", verb, noun)
}

// notFoundError is a lookup that found nothing, for routes with no fsm
// object behind them.
func notFoundError(what string) error { return fmt.Errorf("%w: %s", fsm.ErrNotFound, what) }
