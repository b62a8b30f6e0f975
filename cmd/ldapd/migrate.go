package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/ldapd/ldapd/storemigrate"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	data := fs.String("data", envDefault(e, "LDAPD_DATA", "./data"), "data directory holding ldapd.db and keys/tokens.key (env LDAPD_DATA)")
	to := fs.String("to", "", "the destination: etcd (copy DATA/ldapd.db into etcd) or bolt (copy etcd into DATA/ldapd.db)")
	var sc storeConfig
	sc.register(fs, e)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, `Usage: ldapd migrate --to etcd|bolt --data DIR --etcd-endpoints URLS --keyring-kek FILE

Copy a whole directory between the embedded bbolt file (DATA/ldapd.db, with
its signing keys DATA/keys/tokens.key) and an etcd cluster (with the keys
sealed by --keyring-kek), in either direction, entry by entry through the
store interface: entries keep their DNs, attributes, entryUUIDs, password
hashes and timestamps, and API tokens keep working because the signing keys
move too. Stop every ldapd writing to the source first. The copy is
resumable: entries already in the destination are skipped, and the domain
is written last, so a destination that was only partly copied is never
served. Both stores are verified at the end.

Examples:
  ldapd migrate --to etcd --data ./data --etcd-endpoints https://etcd1:2379 --keyring-kek /etc/ldapd/kek
  ldapd migrate --to bolt --data ./restored --etcd-endpoints https://etcd1:2379 --keyring-kek /etc/ldapd/kek

Flags:
`)
		fs.PrintDefaults()
	}
	rest, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelpShown
		}
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if len(rest) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", rest[0], errUsage)
	}
	if *to != storeEtcd && *to != storeBolt {
		return fmt.Errorf("--to etcd or --to bolt is required: %w", errUsage)
	}
	sc.kind = storeEtcd
	if err := sc.check(); err != nil {
		return err
	}
	if *to == storeEtcd {
		if err := existingData(*data); err != nil {
			return err
		}
	}
	start := time.Now()
	st, err := storemigrate.Run(ctx, storemigrate.Options{To: *to, Data: *data, Etcd: sc.options()})
	if err != nil {
		return usageIf(err)
	}
	fmt.Fprintf(e.stdout, "copied %d entries (%d already there) and %d meta keys to %s in %v; both stores verified\n",
		st.Added, st.Skipped, st.Meta, *to, time.Since(start).Round(time.Millisecond))
	return nil
}
