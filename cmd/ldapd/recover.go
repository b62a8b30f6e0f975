package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

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
	pw, err := recoverOnline(o.data, name)
	if errors.Is(err, errNoServer) {
		pw, err = recoverOffline(ctx, &o.store, o.data, name)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "new password for %s:\n", name)
	fmt.Fprintln(e.stdout, pw)
	return nil
}

var errNoServer = errors.New("no server on the admin socket")

// recoverOnline asks the running server over the admin socket, whose
// clients act as root: a Password Modify without a new password makes the
// server generate one.
func recoverOnline(data, name string) (string, error) {
	path := socketPath(data)
	nc, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		return "", errNoServer
	}
	nc.Close()
	conn, err := ldap.DialURL("ldapi://" + url.PathEscape(path))
	if err != nil {
		return "", errNoServer
	}
	defer conn.Close()
	res, err := conn.PasswordModify(ldap.NewPasswordModifyRequest(name, "", ""))
	if err != nil {
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return "", fmt.Errorf("no account named %s", name)
		}
		return "", fmt.Errorf("recover %s through the running server: %w", name, err)
	}
	return res.GeneratedPassword, nil
}

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
	domain, err := storedDomain(ctx, store)
	if err != nil {
		return "", err
	}
	if domain == "" {
		return "", fmt.Errorf("%s holds no directory yet: start the server once with --domain first", data)
	}
	svc, err := idm.New(idm.Config{Store: store, Domain: domain, Keys: keys, Logger: zerolog.Nop()})
	if err != nil {
		return "", err
	}
	return svc.RecoverAccount(ctx, name)
}
