package identity

import "github.com/shoal-project/shoal/fsm"

// ErrUnauthorized is what every refused token or credential wraps: the API
// answers it with 401 whatever the precise reason, so a caller learns no more
// than "authenticate again". It is fsm's sentinel, so the kind crosses the
// wire and the client rebuilds it.
var ErrUnauthorized = fsm.ErrUnauthorized

// The precise reasons a token is refused. Each wraps ErrUnauthorized, so
// callers that only care about the status test for that; tests and logs use
// the precise one.
var (
	ErrMalformed       = reason("token is malformed")
	ErrUnknownKey      = reason("token signed by an unknown key")
	ErrKeyRetired      = reason("token signed by a key retired before it was issued")
	ErrBadSignature    = reason("token signature does not verify")
	ErrExpired         = reason("token has expired")
	ErrRevoked         = reason("token has been revoked")
	ErrUserNotFound    = reason("token user does not exist")
	ErrUserDisabled    = reason("token user is disabled")
	ErrSuperseded      = reason("token issued before the user's password changed or the user was disabled")
	ErrProjectNotFound = reason("token project does not exist")
	ErrProjectDisabled = reason("token project is disabled")
	ErrNoRole          = reason("token user holds no role on the project")
)

// unauthorized is a precise refusal that is also ErrUnauthorized.
type unauthorized struct{ text string }

func reason(text string) error { return &unauthorized{text: text} }

func (e *unauthorized) Error() string { return e.text }
func (e *unauthorized) Unwrap() error { return ErrUnauthorized }
