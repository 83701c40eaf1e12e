package lab

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Admin is who the lab acts as: the cluster's bootstrap admin, whose
// credentials the bootstrap host wrote to DATA_DIR/admin-openrc. Every
// host's Client shares one, so the lab logs in once, and again only when a
// token is refused.
//
// It logs in at the host a call goes to, not at the openrc's OS_AUTH_URL:
// every node serves Keystone and a token from one is good on all, while the
// lab kills and cuts off the bootstrap host, after which a user too would
// point OS_AUTH_URL at another node.
type Admin struct {
	// Openrc is the bootstrap host's admin-openrc.
	Openrc string

	mu    sync.Mutex
	env   map[string]string // what sourcing Openrc sets; nil until read
	token string
}

// Env is what sourcing the openrc sets that the CLI reads (OS_*,
// SHOAL_ADDR), read as a user does: sh sources it.
func (a *Admin) Env() (map[string]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.env != nil {
		return a.env, nil
	}
	out, err := exec.Command("sh", "-c", `. "$1" && env -0`, "sh", a.Openrc).Output()
	if err != nil {
		return nil, fmt.Errorf("sourcing %s: %w", a.Openrc, err)
	}
	env := map[string]string{}
	for _, kv := range strings.Split(string(out), "\x00") {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "OS_") || k == "SHOAL_ADDR") {
			env[k] = v
		}
	}
	if env["OS_PASSWORD"] == "" {
		return nil, fmt.Errorf("%s sets no OS_PASSWORD", a.Openrc)
	}
	a.env = env
	return env, nil
}

// RootCAs is the pool of the CA the openrc's OS_CACERT names: the cluster
// CA, which every node's API certificate chains to.
func (a *Admin) RootCAs() (*x509.CertPool, error) {
	env, err := a.Env()
	if err != nil {
		return nil, err
	}
	path := env["OS_CACERT"]
	if path == "" {
		return nil, fmt.Errorf("%s sets no OS_CACERT", a.Openrc)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the cluster CA (%s's OS_CACERT): %w", a.Openrc, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the cluster CA %s holds no PEM certificate", path)
	}
	return pool, nil
}

// CLIEnv is the environment of a shoal CLI run against base as the admin:
// the openrc's variables, with OS_AUTH_URL at base, and a token cache in
// cacheDir.
func (a *Admin) CLIEnv(base, cacheDir string) ([]string, error) {
	env, err := a.Env()
	if err != nil {
		return nil, err
	}
	out := []string{"XDG_CACHE_HOME=" + cacheDir}
	for k, v := range env {
		if k == "OS_AUTH_URL" {
			v = base + "/identity/v3"
		}
		out = append(out, k+"="+v)
	}
	return out, nil
}

// Token returns the admin's token, logging in at base when there is none
// yet or when refused is the one held (the API turned it down).
func (a *Admin) Token(ctx context.Context, hc *http.Client, base, refused string) (string, error) {
	a.mu.Lock()
	token := a.token
	a.mu.Unlock()
	if token != "" && token != refused {
		return token, nil
	}
	env, err := a.Env()
	if err != nil {
		return "", err
	}
	// Logged in without the lock: a login at a host that is cut off must
	// not hold up calls to the others.
	token, err = login(ctx, hc, base+"/identity/v3", env)
	if err != nil {
		return "", err
	}
	a.mu.Lock()
	a.token = token
	a.mu.Unlock()
	return token, nil
}

// login is Keystone v3's password authentication, scoped to the openrc's
// project: POST /auth/tokens, the token in X-Subject-Token.
func login(ctx context.Context, hc *http.Client, authURL string, env map[string]string) (string, error) {
	type named struct {
		Name string `json:"name"`
	}
	var body struct {
		Auth struct {
			Identity struct {
				Methods  []string `json:"methods"`
				Password struct {
					User struct {
						Name     string `json:"name"`
						Domain   named  `json:"domain"`
						Password string `json:"password"`
					} `json:"user"`
				} `json:"password"`
			} `json:"identity"`
			Scope struct {
				Project struct {
					Name   string `json:"name"`
					Domain named  `json:"domain"`
				} `json:"project"`
			} `json:"scope"`
		} `json:"auth"`
	}
	id := &body.Auth.Identity
	id.Methods = []string{"password"}
	id.Password.User.Name, id.Password.User.Password = env["OS_USERNAME"], env["OS_PASSWORD"]
	id.Password.User.Domain.Name = env["OS_USER_DOMAIN_NAME"]
	body.Auth.Scope.Project.Name = env["OS_PROJECT_NAME"]
	body.Auth.Scope.Project.Domain.Name = env["OS_PROJECT_DOMAIN_NAME"]
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL+"/auth/tokens?nocatalog", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("logging in at %s: %w", authURL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	token := resp.Header.Get("X-Subject-Token")
	switch {
	case resp.StatusCode != http.StatusCreated:
		return "", fmt.Errorf("logging in at %s: %w", authURL, &StatusError{Code: resp.StatusCode, Body: string(msg)})
	case token == "":
		return "", errors.New("logging in at " + authURL + ": no X-Subject-Token in the answer")
	}
	return token, nil
}
