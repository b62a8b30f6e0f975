package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/internal/cli"
	"github.com/ldapd/ldapd/storemigrate"
)

// The bodies of the offline commands (offlinecmd.go): each turns its
// parsed flags into a call of datastore, backup or storemigrate and
// prints the result. offlineCmd checked the number of arguments.

func runImport(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	fi, err := os.Stat(args[0])
	if err != nil {
		return err
	}
	if err := o.store.check(); err != nil {
		return err
	}
	if o.chunk < 0 {
		return fmt.Errorf("--chunk must be positive: %w", errUsage)
	}
	memory, err := cli.ParseByteSize(o.maxMemory)
	if err != nil || memory < datastore.MinImportMemory {
		return fmt.Errorf("--max-memory %q: want a size of at least 64MiB, such as 512MiB or 2GiB: %w", o.maxMemory, errUsage)
	}
	bar := cli.NewProgress(e.stderr, fi.Size(), !o.quiet && e.stderrTerminal != nil && e.stderrTerminal())
	start := time.Now()
	st, err := datastore.Import(ctx, o.store.options(), o.data, args[0],
		datastore.ImportOptions{Domain: o.domain, Chunk: o.chunk, MaxMemory: memory, Progress: bar.Update})
	bar.Done()
	if err != nil {
		return usageIf(err)
	}
	datastore.ReportImport(e.stderr, st)
	fmt.Fprintf(e.stdout, "imported %d entries (%d built-in merged, %d skipped) in %v\n", st.Added, len(st.Merged), len(st.Skipped), time.Since(start).Round(time.Millisecond))
	return nil
}

func runExport(ctx context.Context, e *env, _ []string, o *offlineFlags) error {
	if err := o.store.check(); err != nil {
		return err
	}
	path := o.out
	if path == "-" {
		path = ""
	}
	return usageIf(datastore.Export(ctx, o.store.options(), o.data, path, e.stdout))
}

func runVerify(ctx context.Context, e *env, _ []string, o *offlineFlags) error {
	what, err := datastore.Verify(ctx, o.store.options(), o.data)
	if err != nil {
		return usageIf(err)
	}
	fmt.Fprintf(e.stdout, "%s: consistent\n", what)
	return nil
}

func runMigrate(ctx context.Context, e *env, _ []string, o *offlineFlags) error {
	if o.to != storeEtcd && o.to != storeBolt {
		return fmt.Errorf("--to etcd or --to bolt is required: %w", errUsage)
	}
	o.store.Kind = storeEtcd
	if err := o.store.check(); err != nil {
		return err
	}
	if o.to == storeEtcd {
		if err := usageIf(datastore.ExistingData(o.data)); err != nil {
			return err
		}
	}
	start := time.Now()
	st, err := storemigrate.Run(ctx, storemigrate.Options{To: o.to, Data: o.data, Etcd: o.store.options()})
	if err != nil {
		return usageIf(err)
	}
	fmt.Fprintf(e.stdout, "copied %d entries (%d already there) and %d meta keys to %s in %v; both stores verified\n",
		st.Added, st.Skipped, st.Meta, o.to, time.Since(start).Round(time.Millisecond))
	return nil
}

func runRecoverAccount(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if err := o.store.check(); err != nil {
		return err
	}
	name := args[0]
	pw, err := admin.RecoverAccount(ctx, socketPath(o.data), name)
	if errors.Is(err, admin.ErrUnreachable) {
		pw, err = datastore.RecoverAccount(ctx, o.store.options(), o.data, name)
	}
	if err != nil {
		return usageIf(err)
	}
	fmt.Fprintf(e.stderr, "new password for %s:\n", name)
	fmt.Fprintln(e.stdout, pw)
	return nil
}

func runBackup(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if args[0] == "-" {
		if _, err := backup.Stream(ctx, socketPath(o.data), e.stdout); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "backup written to standard output (it holds the token signing keys: keep it secret)")
		return nil
	}
	path, err := filepath.Abs(args[0])
	if err != nil {
		return err
	}
	n, err := backup.ToFile(ctx, socketPath(o.data), path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "backup written to %s (%d bytes, checked; mode 0600: it holds the token signing keys)\n", path, n)
	return nil
}

func runRestore(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	err := backup.Restore(ctx, args[0], o.data, o.force)
	if errors.Is(err, backup.ErrDatabaseExists) {
		return fmt.Errorf("%w: restore with --force to replace it: %w", err, errUsage)
	}
	return err
}
