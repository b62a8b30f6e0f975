package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ldapd/ldapd/storemigrate"
)

func runMigrate(ctx context.Context, e *env, args []string, o *offlineFlags) error {
	if len(args) != 0 {
		return fmt.Errorf("unexpected argument %q: %w", args[0], errUsage)
	}
	if o.to != storeEtcd && o.to != storeBolt {
		return fmt.Errorf("--to etcd or --to bolt is required: %w", errUsage)
	}
	o.store.Kind = storeEtcd
	if err := o.store.check(); err != nil {
		return err
	}
	if o.to == storeEtcd {
		if err := existingData(o.data); err != nil {
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
