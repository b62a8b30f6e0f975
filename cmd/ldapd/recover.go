package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/idm"
)

func runRecoverAccount(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("recover-account", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory (env LDAPD_DATA)")
	var sc storeConfig
	sc.register(fs, e)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd recover-account NAME [--data DIR]

Set a new random password for the account NAME (admin, idm_admin or any
other person or service account) and print it alone on the last line of
stdout. With the server running, it asks the server over the admin socket
DATA/ldapd.sock (owner-only); with the server stopped, it opens the data
directory itself (or, with --store etcd and the etcd flags of serve, the
etcd cluster).

Example:
  ldapd recover-account admin --data ./data

Flags:
`)
		fs.PrintDefaults()
	}
	args, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(args) != 1 {
		return fmt.Errorf("want exactly one account name: %w", errUsage)
	}
	if err := sc.check(); err != nil {
		return err
	}
	name := args[0]
	pw, err := admin.RecoverAccount(ctx, socketPath(*data), name)
	if errors.Is(err, admin.ErrUnreachable) {
		pw, err = recoverOffline(ctx, &sc, *data, name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "new password for %s:\n", name)
	fmt.Fprintln(e.stdout, pw)
	return nil
}

// recoverOffline opens a stopped server's store itself (data, or the etcd
// cluster sc names) and sets the password there.
func recoverOffline(ctx context.Context, sc *storeConfig, data, name string) (string, error) {
	if sc.kind != storeEtcd {
		if err := existingData(data); err != nil {
			return "", fmt.Errorf("no server on %s and %w", socketPath(data), err)
		}
	}
	store, keys, err := sc.openData(ctx, data, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer store.Close()
	pw, err := idm.RecoverOffline(ctx, store, keys, name)
	if errors.Is(err, idm.ErrNoDirectory) {
		return "", fmt.Errorf("%s holds no directory yet: start the server once with --domain first", data)
	}
	return pw, err
}

// parseFlagsAnywhere parses fs's flags wherever they appear among the
// positional arguments, which it returns in order ("--" ends the flags).
func parseFlagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
