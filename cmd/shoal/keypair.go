package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/shoal-project/shoal/api"
	"github.com/shoal-project/shoal/api/client"
)

// maxPublicKeyFile bounds what import reads: a public key is a line.
const maxPublicKeyFile = 64 << 10

func keyPairCommand() *cli.Command {
	user := &cli.StringFlag{Name: "user", Usage: "another user's keypairs, by user ID or name (admin only)"}
	name := operand{"NAME", "keypair name"}
	return &cli.Command{
		Name:  "keypair",
		Usage: "manage your SSH keypairs (a server created with --key-name gets the public key)",
		Subcommands: []*cli.Command{
			{
				Name: "create",
				Usage: "generate a keypair; the private key is shown once: printed, or written to a new " +
					"--private-key file (mode 0600)",
				ArgsUsage: name.usage,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "private-key", Usage: "write the private key to this `FILE`, which must not exist"},
					user,
				},
				Action: createKeyPair,
			},
			{
				Name:      "import",
				Usage:     "import a public key (ed25519, ecdsa, or RSA of at least 2048 bits)",
				ArgsUsage: name.usage,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "public-key", Required: true, Usage: "the public key `FILE` (id_ed25519.pub)"},
					user,
				},
				Action: importKeyPair,
			},
			{
				Name:  "list",
				Usage: "list your keypairs",
				Flags: []cli.Flag{user},
				Action: func(c *cli.Context) error {
					if err := noArgs(c); err != nil {
						return err
					}
					return callAndPrint(c, func(cl *client.Client) ([]api.KeyPair, error) {
						userID, err := keyPairUser(c, cl)
						if err != nil {
							return nil, err
						}
						return cl.KeyPairs(c.Context, userID)
					}, printKeyPairs)
				},
			},
			keyPairRefCommand("show", "show one of your keypairs", name, user, func(c *cli.Context, cl *client.Client, ref, userID string) (api.KeyPair, error) {
				return cl.KeyPair(c.Context, ref, userID)
			}, printKeyPair),
			keyPairRefCommand("delete", "delete one of your keypairs (servers keep the key they got)", name, user,
				func(c *cli.Context, cl *client.Client, ref, userID string) (string, error) {
					return ref, cl.DeleteKeyPair(c.Context, ref, userID)
				},
				func(o *output, ref string) error {
					if o.json {
						return nil
					}
					_, err := fmt.Fprintf(o.w, "deleted keypair %s\n", ref)
					return err
				}),
		},
	}
}

// keyPairRefCommand is a command on the one keypair its argument names.
func keyPairRefCommand[T any](cmd, usage string, arg operand, user cli.Flag,
	call func(*cli.Context, *client.Client, string, string) (T, error), print func(*output, T) error) *cli.Command {
	return &cli.Command{
		Name:      cmd,
		Usage:     usage,
		ArgsUsage: arg.usage,
		Flags:     []cli.Flag{user},
		Action: func(c *cli.Context) error {
			ref, err := oneArg(c, arg.what)
			if err != nil {
				return err
			}
			return callAndPrint(c, func(cl *client.Client) (T, error) {
				userID, err := keyPairUser(c, cl)
				if err != nil {
					var zero T
					return zero, err
				}
				return call(c, cl, ref, userID)
			}, print)
		},
	}
}

// keyPairUser is the user --user names, by ID ("" without it: the caller).
func keyPairUser(c *cli.Context, cl *client.Client) (string, error) {
	ref := c.String("user")
	if ref == "" {
		return "", nil
	}
	u, err := cl.User(c.Context, ref)
	return u.ID, err
}

// createKeyPair is `keypair create`. The private key file is created
// before the API is asked, so a key is never generated that cannot be
// kept; if writing it fails anyway, the keypair is deleted again.
func createKeyPair(c *cli.Context) error {
	name, err := oneArg(c, "keypair name")
	if err != nil {
		return err
	}
	o, err := outputFor(c)
	if err != nil {
		return err
	}
	cl := apiClient(c)
	userID, err := keyPairUser(c, cl)
	if err != nil {
		return err
	}
	path := c.String("private-key")
	var file *os.File
	if path != "" {
		if file, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
			return fmt.Errorf("private key file: %w", err)
		}
	}
	k, err := cl.CreateKeyPair(c.Context, api.KeyPairCreate{Name: name, UserID: userID})
	if file == nil {
		if err != nil {
			return err
		}
		if o.json {
			return o.printJSON(api.KeyPairResponse{KeyPair: k})
		}
		_, err = io.WriteString(o.w, k.PrivateKey) // as openstack keypair create: the key alone
		return err
	}
	if err == nil {
		_, err = io.WriteString(file, k.PrivateKey)
		if err != nil {
			err = fmt.Errorf("writing the private key to %s: %w", path, err)
			if derr := cl.DeleteKeyPair(c.Context, name, userID); derr != nil {
				err = fmt.Errorf("%w; keypair %s is left without its private key: %v", err, name, derr)
			}
		}
	}
	if cerr := file.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing the private key to %s: %w", path, cerr)
	}
	if err != nil {
		return errors.Join(err, os.Remove(path))
	}
	k.PrivateKey = ""
	return printKeyPair(o, k)
}

// importKeyPair is `keypair import`.
func importKeyPair(c *cli.Context) error {
	name, err := oneArg(c, "keypair name")
	if err != nil {
		return err
	}
	f, err := os.Open(c.String("public-key"))
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	defer f.Close()
	key, err := io.ReadAll(io.LimitReader(f, maxPublicKeyFile+1))
	switch {
	case err != nil:
		return fmt.Errorf("public key: %w", err)
	case len(key) > maxPublicKeyFile:
		return fmt.Errorf("public key %s is larger than %d bytes: is it a public key?", c.String("public-key"), maxPublicKeyFile)
	}
	return callAndPrint(c, func(cl *client.Client) (api.KeyPair, error) {
		userID, err := keyPairUser(c, cl)
		if err != nil {
			return api.KeyPair{}, err
		}
		return cl.CreateKeyPair(c.Context, api.KeyPairCreate{Name: name, PublicKey: strings.TrimSpace(string(key)), UserID: userID})
	}, printKeyPair)
}

func printKeyPairs(o *output, keys []api.KeyPair) error {
	return printList(o, keys, func(l []api.KeyPair) any {
		out := api.KeyPairList{KeyPairs: []api.KeyPairResponse{}}
		for _, k := range l {
			out.KeyPairs = append(out.KeyPairs, api.KeyPairResponse{KeyPair: k})
		}
		return out
	}, []string{"NAME", "FINGERPRINT", "TYPE"}, func(k api.KeyPair) []string { return []string{k.Name, k.Fingerprint, k.Type} })
}

func printKeyPair(o *output, k api.KeyPair) error {
	return o.printObject(api.KeyPairResponse{KeyPair: k}, [][]string{
		{"name", k.Name},
		{"fingerprint", k.Fingerprint},
		{"type", k.Type},
		{"user_id", k.UserID},
		{"public_key", k.PublicKey},
		{"created", timestamp(k.Created)},
	})
}
