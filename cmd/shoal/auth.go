package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api/client"
)

// authFlags are the global flags that say who the client is, named and read
// from the environment as the openstack CLI does, so one openrc serves both.
// A token given as is wins; else a password when an auth URL is set; else
// the client sends no token at all.
func authFlags() []cli.Flag {
	env := func(name, envVar, usage string) *cli.StringFlag {
		return &cli.StringFlag{Name: name, EnvVars: []string{envVar}, Usage: usage}
	}
	return []cli.Flag{
		env("token", "SHOAL_TOKEN", "a token to send as is (wins over password authentication)"),
		env("os-auth-url", "OS_AUTH_URL", "Keystone v3 URL to authenticate at (https://node:8774/identity/v3)"),
		env("os-username", "OS_USERNAME", "user name"),
		env("os-user-id", "OS_USER_ID", "user ID (instead of a name)"),
		env("os-password", "OS_PASSWORD", "password"),
		env("os-project-name", "OS_PROJECT_NAME", "project to scope the token to"),
		env("os-project-id", "OS_PROJECT_ID", "project ID (instead of a name)"),
		&cli.StringFlag{Name: "os-user-domain-name", Value: "Default", EnvVars: []string{"OS_USER_DOMAIN_NAME"}, Usage: "domain of the user name"},
		&cli.StringFlag{Name: "os-project-domain-name", Value: "Default", EnvVars: []string{"OS_PROJECT_DOMAIN_NAME"}, Usage: "domain of the project name"},
		// SHOAL_CACERT first: a variable named for shoal is meant for it, where
		// OS_CACERT may have been set for another cloud.
		&cli.StringFlag{Name: "os-cacert", EnvVars: []string{"SHOAL_CACERT", "OS_CACERT"}, TakesFile: true,
			Usage: "PEM bundle of the CA to trust for the API and Keystone (a node's DATA_DIR/tls/ca.crt); default: the system's roots"},
	}
}

// clientOptions is how a client of this command line trusts the node and
// authenticates.
func clientOptions(c *cli.Context) []client.Option {
	opts := trustOptions(c)
	if token := c.String("token"); token != "" {
		return append(opts, client.WithToken(token))
	}
	if c.String("os-auth-url") == "" {
		return opts
	}
	return append(opts, client.WithTokenSource(passwordAuth(c)))
}

// trustOptions are the options that make every client of this command line,
// API and Keystone alike, trust the --os-cacert bundle; none when it is not
// given (the system's roots, for an API certificate from a public CA). A
// bundle that cannot be read fails the first request, not the command line:
// the agent and a joining node run with an operator's environment too, and
// make no request that needs it.
func trustOptions(c *cli.Context) []client.Option {
	if path := c.String("os-cacert"); path != "" {
		return []client.Option{client.WithCAFile(path)}
	}
	return nil
}

// passwordAuth authenticates with the --os-* credentials, sharing tokens
// between commands through a cache in the user's cache directory (none when
// there is no such directory: every command then authenticates).
func passwordAuth(c *cli.Context) *client.PasswordAuth {
	creds := client.Credentials{
		AuthURL:           c.String("os-auth-url"),
		UserID:            c.String("os-user-id"),
		Username:          c.String("os-username"),
		UserDomainName:    c.String("os-user-domain-name"),
		Password:          c.String("os-password"),
		ProjectID:         c.String("os-project-id"),
		ProjectName:       c.String("os-project-name"),
		ProjectDomainName: c.String("os-project-domain-name"),
	}
	var cache client.TokenCache
	if dir, err := os.UserCacheDir(); err == nil {
		cache = client.NewFileCache(filepath.Join(dir, "shoal"))
	}
	return client.NewPasswordAuth(creds, cache, trustOptions(c)...)
}

// errNoAuthURL says a token command was run without password credentials.
var errNoAuthURL = errors.New("needs --os-auth-url (OS_AUTH_URL) and the user's credentials")
