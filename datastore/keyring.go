package datastore

import (
	"context"
	"errors"
	"fmt"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/tokens"
)

// MetaSealedKeyring is the meta key of the token keyring, sealed with the
// key-encryption key, in an etcd store.
const MetaSealedKeyring = "tokens.keyring.sealed"

// SharedKeyring returns the keyring sealed in store. If there is none, it
// stores initial (the keys a migration brings), or a fresh keyring if
// initial is nil, but a fresh one only into an empty directory: the first
// of several nodes starting at once wins, and every node ends up with its
// keyring. A directory that already has its domain (or a first start in
// progress) but no keyring lost it: a new keyring would silently
// invalidate every token issued, so that is refused with the fix.
//
// regenerate lifts that refusal, on the operator's explicit request.
func SharedKeyring(ctx context.Context, store directory.Store, kek []byte, initial *tokens.Keyring, regenerate bool) (*tokens.Keyring, error) {
	fresh := initial == nil
	if fresh {
		var err error
		if initial, err = tokens.NewKeyring(nil); err != nil {
			return nil, err
		}
	}
	mine, err := tokens.SealKeyring(initial, kek, nil)
	if err != nil {
		return nil, err
	}
	var sealed []byte
	err = store.Update(ctx, func(tx directory.WriteTx) error {
		v, err := tx.Meta(MetaSealedKeyring)
		if err == nil {
			sealed = v
			return nil
		}
		if !errors.Is(err, directory.ErrMetaNotFound) {
			return err
		}
		if fresh && !regenerate {
			if err := RequireEmpty(tx); err != nil {
				return err
			}
		}
		sealed = mine
		return tx.SetMeta(MetaSealedKeyring, mine)
	})
	if err != nil {
		return nil, err
	}
	keys, err := tokens.OpenSealedKeyring(sealed, kek)
	if errors.Is(err, tokens.ErrSealedKeyring) {
		return nil, fmt.Errorf("%w (is --keyring-kek the file the other nodes use?)", err)
	}
	return keys, err
}

// OpenSealedKeyring opens the keyring sealed in an etcd store, and fails
// if there is none: unlike SharedKeyring it never writes.
func OpenSealedKeyring(ctx context.Context, store directory.Store, kek []byte) (*tokens.Keyring, error) {
	var sealed []byte
	err := store.View(ctx, func(tx directory.ReadTx) (err error) {
		sealed, err = tx.Meta(MetaSealedKeyring)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("token signing keys in etcd: %w", err)
	}
	keys, err := tokens.OpenSealedKeyring(sealed, kek)
	if errors.Is(err, tokens.ErrSealedKeyring) {
		return nil, fmt.Errorf("%w (is --keyring-kek the file the ldapd nodes use?)", err)
	}
	return keys, err
}

// ErrKeyringLost is returned when a directory with entries has no token
// signing keys: making new ones would invalidate every token.
var ErrKeyringLost = errors.New("the directory exists but its token signing keys are missing")

// RequireEmpty fails with ErrKeyringLost unless tx's store has never been
// bootstrapped: no domain and no first start in progress (idm writes
// those meta keys; entries exist only after them).
func RequireEmpty(tx directory.ReadTx) error {
	for _, k := range []string{"domain", "bootstrap.domain"} {
		v, err := tx.Meta(k)
		if errors.Is(err, directory.ErrMetaNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%w (domain %q): ldapd will not make new keys, which would silently invalidate every token issued. "+
			"Restore the keys from a backup (ldapd backup keeps them; with etcd, the meta key %q of an etcd snapshot; docs/operations.md); "+
			"if they are lost for good, start once with --keyring-regenerate "+
			"(every existing token then stops working and must be generated again)", ErrKeyringLost, v, MetaSealedKeyring)
	}
	return nil
}
