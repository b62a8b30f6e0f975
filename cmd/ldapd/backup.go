package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/datastore"
)

func runBackup(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name (or - for standard output): %w", errUsage)
	}
	sock := socketPath(o.data)
	if nc, err := net.DialTimeout("unix", sock, 2*time.Second); err != nil {
		return fmt.Errorf("no server on %s (backup needs the running server; a stopped data directory can be copied as files): %w", sock, err)
	} else {
		nc.Close()
	}
	if args[0] == "-" {
		if _, err := backup.Stream(ctx, sock, e.stdout); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "backup written to standard output (it holds the token signing keys: keep it secret)")
		return nil
	}
	path, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	n, err := backup.ToFile(ctx, sock, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "backup written to %s (%d bytes, checked; mode 0600: it holds the token signing keys)\n", path, n)
	return nil
}

func runRestore(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 1 {
		return fmt.Errorf("want exactly one archive file name: %w", errUsage)
	}
	err := backup.Restore(ctx, args[0], o.data, o.force)
	if errors.Is(err, backup.ErrDatabaseExists) {
		return fmt.Errorf("%w: restore with --force to replace it: %w", err, errUsage)
	}
	return err
}

func runVerify(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
	}
	if o.store.Kind == storeEtcd {
		if err := datastore.VerifyEtcd(ctx, o.store.options()); err != nil {
			return usageIf(err)
		}
		fmt.Fprintf(e.stdout, "etcd %s (prefix %s): consistent\n", o.store.Endpoints, o.store.Prefix)
		return nil
	}
	if _, err := os.Stat(dbPath(o.data)); err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if err := datastore.VerifyFile(ctx, dbPath(o.data)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: consistent\n", dbPath(o.data))
	return nil
}
