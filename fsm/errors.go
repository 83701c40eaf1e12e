package fsm

import "errors"

// The error vocabulary of the whole system. It lives here, in the package
// every other one imports, so that Apply, the cluster, the API and its
// client all test for the same values with errors.Is and nobody translates.
var (
	// ErrInvalid: the request or command breaks a rule whatever the state.
	ErrInvalid = NewError("invalid", "invalid")
	// ErrNotFound: something the request names does not exist.
	ErrNotFound = NewError("not_found", "not found")
	// ErrConflict: the request clashes with the current state.
	ErrConflict = NewError("conflict", "conflict")
	// ErrNoLeader: the cluster has no leader right now; retrying soon may work.
	ErrNoLeader = NewError("no_leader", "no cluster leader")
	// ErrUnavailable: the request could not be completed now (a node is
	// catching up, a forward failed). For a write, its outcome may be unknown:
	// it may have been applied.
	ErrUnavailable = NewError("unavailable", "temporarily unavailable")
	// ErrOverQuota: the request would take a project past one of its quota
	// limits (Nova answers 403). Apply returns it wrapped in a QuotaError,
	// whose message is Nova's.
	ErrOverQuota = NewError("over_quota", "over quota")
	// ErrUnauthorized: the request carries no credentials, or ones that do
	// not hold (a bad, expired or revoked token, a wrong password). The API
	// answers 401 and tells no more.
	ErrUnauthorized = NewError("unauthorized", "authentication required")
	// ErrForbidden: the caller is authenticated but its roles do not allow
	// the request (the API answers 403).
	ErrForbidden = NewError("forbidden", "forbidden")
)

// vocabulary lists the sentinels a kind read from a wire turns back into.
var vocabulary = []error{ErrInvalid, ErrNotFound, ErrConflict, ErrNoLeader, ErrUnavailable, ErrOverQuota, ErrUnauthorized, ErrForbidden}

// sentinel is an error value that carries its kind.
type sentinel struct{ kind, text string }

func (s *sentinel) Error() string { return s.text }

// NewError returns a new sentinel error whose kind (a stable, machine-readable
// name such as "not_found") crosses the wire with it: on the internal
// forwarding hop and in the API's error body, so the far side rebuilds the
// sentinel from the kind, never from message text. A kind is part of those
// protocols: never change or reuse one. Packages above fsm use NewError for
// sentinels that only they return (the API's "too_large").
func NewError(kind, text string) error { return &sentinel{kind: kind, text: text} }

// KindOf returns the kind of the first sentinel in err's chain, or "" when
// err wraps none.
func KindOf(err error) string {
	var s *sentinel
	if errors.As(err, &s) {
		return s.kind
	}
	return ""
}

// ErrorOfKind returns the sentinel of the vocabulary with that kind, or nil
// when there is none (a kind of a newer peer, or one only the API knows).
func ErrorOfKind(kind string) error {
	for _, err := range vocabulary {
		if KindOf(err) == kind {
			return err
		}
	}
	return nil
}
