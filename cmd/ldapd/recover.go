package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/idm"
)

func runRecoverAccount(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one account name: %w", errUsage)
	}
	if err := o.store.check(); err != nil {
		return err
	}
	name := args[0]
	pw, err := admin.RecoverAccount(ctx, socketPath(o.data), name)
	if errors.Is(err, admin.ErrUnreachable) {
		pw, err = recoverOffline(ctx, &o.store, o.data, name)
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
	if sc.Kind != storeEtcd {
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
