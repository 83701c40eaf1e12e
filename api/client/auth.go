package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The headers Keystone v3 speaks: a request carries its token in
// X-Auth-Token; POST /auth/tokens answers the new token in X-Subject-Token
// (never in the body), and DELETE /auth/tokens names the token to revoke there.
const (
	HeaderAuthToken    = "X-Auth-Token"
	HeaderSubjectToken = "X-Subject-Token"
)

// renewMargin is how long before its expiry a token is no longer used: a
// token that dies on its way to the node would cost a refused request.
const renewMargin = 60 * time.Second

// ErrNoPassword says password authentication was asked for without one.
var ErrNoPassword = errors.New("no password given (OS_PASSWORD)")

// Credentials are what Keystone v3 password authentication needs. A user is
// named by ID, or by name within a domain; the project to scope the token to
// likewise. The password is never printed: String and GoString leave it out.
type Credentials struct {
	AuthURL           string // Keystone's v3 root, such as https://node:8774/identity/v3
	UserID            string
	Username          string
	UserDomainName    string
	Password          string
	ProjectID         string
	ProjectName       string
	ProjectDomainName string
}

// CacheKey names whose token this is, for a TokenCache: the auth URL, the
// user and the project, never the password.
func (c Credentials) CacheKey() string {
	return strings.Join([]string{strings.TrimRight(c.AuthURL, "/"), c.user(), c.project()}, "\n")
}

// String shows the credentials without the password, so that a stray %v in a
// log or an error cannot leak it.
func (c Credentials) String() string {
	return fmt.Sprintf("%s (user %s, project %s)", c.AuthURL, c.user(), c.project())
}

// user is the user as the request names it: "id:…" or "name:domain/name".
func (c Credentials) user() string {
	if c.UserID != "" {
		return "id:" + c.UserID
	}
	return "name:" + c.UserDomainName + "/" + c.Username
}

// project is the scope as the request names it; "-" when unscoped.
func (c Credentials) project() string {
	switch {
	case c.ProjectID != "":
		return "id:" + c.ProjectID
	case c.ProjectName != "":
		return "name:" + c.ProjectDomainName + "/" + c.ProjectName
	}
	return "-"
}

// GoString is String for %#v.
func (c Credentials) GoString() string { return "client.Credentials{" + c.String() + "}" }

// Token is a Keystone token as a client keeps it: the ID it sends, when it
// expires, and whose it is (from the body of Keystone's answer).
type Token struct {
	ID        string    `json:"id"`
	ExpiresAt time.Time `json:"expires_at"`
	IssuedAt  time.Time `json:"issued_at"`
	UserID    string    `json:"user_id"`
	ProjectID string    `json:"project_id"`
}

// usableAt says whether the token can still be sent at now.
func (t Token) usableAt(now time.Time) bool {
	return t.ID != "" && now.Before(t.ExpiresAt.Add(-renewMargin))
}

// TokenSource gives a client the token to send. Renew is called once after
// the API refused the token it gave (401): it must get a fresh one.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Renew(ctx context.Context, refused string) (string, error)
}

// TokenCache keeps tokens between processes, keyed by Credentials.CacheKey.
type TokenCache interface {
	Load(key string) (Token, bool)
	Store(key string, t Token) error
	Delete(key string) error
}

// PasswordAuth is a TokenSource that authenticates with a password
// (Keystone v3 "password" method), reuses its token until shortly before it
// expires, and shares it with other processes through an optional cache.
// It is safe for concurrent use.
type PasswordAuth struct {
	creds Credentials
	cache TokenCache
	http  *http.Client
	now   func() time.Time

	mu  sync.Mutex
	tok Token
}

// NewPasswordAuth returns a PasswordAuth for creds; cache may be nil. opts
// are the options of the API client it serves that say whom to trust
// (WithCA, WithCAFile): Keystone may sit at another URL, never behind
// another trust. Token options mean nothing here.
func NewPasswordAuth(creds Credentials, cache TokenCache, opts ...Option) *PasswordAuth {
	return &PasswordAuth{creds: creds, cache: cache, http: HTTPClient(opts...), now: time.Now}
}

// Token returns a token usable now: the one held, a cached one, or a new one.
func (p *PasswordAuth) Token(ctx context.Context) (string, error) {
	t, err := p.Current(ctx)
	return t.ID, err
}

// Current is Token with what Keystone said about it (expiry, user, project).
func (p *PasswordAuth) Current(ctx context.Context) (Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.tok.usableAt(now) {
		return p.tok, nil
	}
	if p.cache != nil {
		if t, ok := p.cache.Load(p.creds.CacheKey()); ok && t.usableAt(now) {
			p.tok = t
			return t, nil
		}
	}
	return p.authenticate(ctx)
}

// Renew authenticates again unless another request already replaced the
// refused token.
func (p *PasswordAuth) Renew(ctx context.Context, refused string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tok.ID != refused && p.tok.usableAt(p.now()) {
		return p.tok.ID, nil
	}
	t, err := p.authenticate(ctx)
	return t.ID, err
}

// Revoke revokes token (DELETE /auth/tokens, authorized by the source's own
// token) and forgets it if it is the one held or cached.
func (p *PasswordAuth) Revoke(ctx context.Context, token string) error {
	own, err := p.Token(ctx)
	if err != nil {
		return err
	}
	if err := RevokeToken(ctx, p.http, p.creds.AuthURL, own, token); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tok.ID == token {
		p.tok = Token{}
		if p.cache != nil {
			return p.cache.Delete(p.creds.CacheKey())
		}
	}
	return nil
}

// authenticate gets a new token and keeps it; p.mu is held. A cache that
// cannot store costs the next process one authentication, nothing more.
func (p *PasswordAuth) authenticate(ctx context.Context) (Token, error) {
	t, err := Authenticate(ctx, p.http, p.creds)
	if err != nil {
		return Token{}, err
	}
	p.tok = t
	if p.cache != nil {
		_ = p.cache.Store(p.creds.CacheKey(), t)
	}
	return t, nil
}

// orDefault is hc, or when hc is nil New's default: bounded by Timeout,
// trusting the system's roots. A cluster's own CA needs HTTPClient(WithCA(…)).
func orDefault(hc *http.Client) *http.Client {
	if hc == nil {
		return HTTPClient()
	}
	return hc
}

// Authenticate asks Keystone for a token: POST {AuthURL}/auth/tokens with
// the password method, scoped to the project when one is named; hc may be
// nil. Errors name the auth URL and the user, never the password.
func Authenticate(ctx context.Context, hc *http.Client, creds Credentials) (Token, error) {
	if creds.Password == "" {
		return Token{}, ErrNoPassword
	}
	hc = orDefault(hc)
	body, err := json.Marshal(authRequest(creds))
	if err != nil {
		return Token{}, fmt.Errorf("encoding the authentication request: %w", err)
	}
	url := strings.TrimRight(creds.AuthURL, "/") + "/auth/tokens"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Token{}, fmt.Errorf("authenticating to %s: %w", creds.AuthURL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return Token{}, fmt.Errorf("authenticating to %s: %w", creds.AuthURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Token{}, fmt.Errorf("authenticating to %s: reading response: %w", creds.AuthURL, err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return Token{}, fmt.Errorf("authenticating to %s: %w", creds, responseError(resp, data))
	}
	var out struct {
		Token struct {
			ExpiresAt time.Time `json:"expires_at"`
			IssuedAt  time.Time `json:"issued_at"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
			Project struct {
				ID string `json:"id"`
			} `json:"project"`
		} `json:"token"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return Token{}, fmt.Errorf("authenticating to %s: decoding response: %w", creds.AuthURL, err)
	}
	t := Token{
		ID:        resp.Header.Get(HeaderSubjectToken),
		ExpiresAt: out.Token.ExpiresAt,
		IssuedAt:  out.Token.IssuedAt,
		UserID:    out.Token.User.ID,
		ProjectID: out.Token.Project.ID,
	}
	if t.ID == "" || t.ExpiresAt.IsZero() {
		return Token{}, fmt.Errorf("authenticating to %s: the answer has no %s header or no expires_at", creds.AuthURL, HeaderSubjectToken)
	}
	return t, nil
}

// RevokeToken revokes subject (Keystone's DELETE /auth/tokens), authorized by
// token; hc may be nil.
func RevokeToken(ctx context.Context, hc *http.Client, authURL, token, subject string) error {
	hc = orDefault(hc)
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, strings.TrimRight(authURL, "/")+"/auth/tokens", nil)
	if err != nil {
		return err
	}
	req.Header.Set(HeaderAuthToken, token)
	req.Header.Set(HeaderSubjectToken, subject)
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("revoking a token at %s: %w", authURL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("revoking a token at %s: %w", authURL, responseError(resp, data))
	}
	return nil
}

// The body of POST /auth/tokens, in Keystone's field order.
type (
	authBody struct {
		Auth struct {
			Identity authIdentity `json:"identity"`
			Scope    *authScope   `json:"scope,omitempty"`
		} `json:"auth"`
	}
	authIdentity struct {
		Methods  []string `json:"methods"`
		Password struct {
			User authUser `json:"user"`
		} `json:"password"`
	}
	authUser struct {
		ID       string      `json:"id,omitempty"`
		Name     string      `json:"name,omitempty"`
		Domain   *authDomain `json:"domain,omitempty"`
		Password string      `json:"password"`
	}
	authScope struct {
		Project authProject `json:"project"`
	}
	authProject struct {
		ID     string      `json:"id,omitempty"`
		Name   string      `json:"name,omitempty"`
		Domain *authDomain `json:"domain,omitempty"`
	}
	authDomain struct {
		Name string `json:"name"`
	}
)

// authRequest builds the password request: user and project by ID when an ID
// is given (an ID needs no domain), else by name within their domains. No
// project leaves the token unscoped, as Keystone does.
func authRequest(c Credentials) authBody {
	var b authBody
	b.Auth.Identity.Methods = []string{"password"}
	u := authUser{ID: c.UserID, Password: c.Password}
	if c.UserID == "" {
		u.Name, u.Domain = c.Username, &authDomain{Name: c.UserDomainName}
	}
	b.Auth.Identity.Password.User = u
	switch {
	case c.ProjectID != "":
		b.Auth.Scope = &authScope{Project: authProject{ID: c.ProjectID}}
	case c.ProjectName != "":
		b.Auth.Scope = &authScope{Project: authProject{Name: c.ProjectName, Domain: &authDomain{Name: c.ProjectDomainName}}}
	}
	return b
}
