package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/cli"
)

// The options of ldapd serve come from, in order of precedence: the flag,
// its environment variable (LDAPD_ and the flag's name in upper case with
// '-' as '_'), the TOML configuration file (--config), the default; the
// other commands bind the variables they read the same way (cli.BindEnv).
// internal/cli applies the sources to the parsed flags; this file adds
// the checks of ldapd's option values, and config_test.go checks that
// every serve flag documents its environment variable.

// applyConfigFile sets the options of fs that the TOML file at path names
// (cli.ApplyFile), under ldapd's checks (checkOption). noFile lists flags
// that must not come from a file (config itself).
func applyConfigFile(fs *pflag.FlagSet, path string, noFile ...string) error {
	return cli.ApplyFile(fs, path, checkOption, noFile...)
}

// applyEnv sets the options of fs not given as flags from their
// environment variables in e (cli.ApplyEnv), under ldapd's checks, which
// it runs on the flags too.
func applyEnv(e *env, fs *pflag.FlagSet) error {
	return cli.ApplyEnv(fs, e.lookup, checkOption)
}

// checkOption validates the options whose values the flag package does not
// check itself; the same checks run on flags and environment variables
// when the server starts.
func checkOption(name, v string) error {
	switch name {
	case "log-level":
		if _, err := parseLevel(v); err != nil {
			return err
		}
	case "log-format":
		switch v {
		case "auto", "json", "console":
		default:
			return fmt.Errorf("invalid value %q: want auto, json or console", v)
		}
	case "tls-key-exchange":
		if _, err := certs.ParseKeyExchange(v); err != nil {
			return fmt.Errorf("invalid value %q: want %s or %s", v, certs.KeyExchangeHybrid, certs.KeyExchangeClassical)
		}
	case "max-tokens-per-account":
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("invalid value %q: want a whole number of at least 1", v)
		}
	case "uid-range", "gid-range":
		if v == "" {
			return nil // the default
		}
		if _, err := idm.ParseIDRange(v); err != nil {
			return err
		}
	case "anonymous-read":
		if _, err := acl.ParseAnonymousRead(v); err != nil {
			return err
		}
	case "base-dn":
		if v == "" {
			return nil // from --domain
		}
		if _, err := idm.ParseBaseDN(v); err != nil {
			return err
		}
	case "store":
		switch v {
		case storeBolt, storeEtcd:
		default:
			return fmt.Errorf("invalid value %q: want %s or %s", v, storeBolt, storeEtcd)
		}
	case "data":
		if v == "" {
			return errors.New("empty: want the data directory")
		}
	case "ldaps", "ldap", "metrics", "https":
		if v == "" {
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("invalid address %q: want HOST:PORT or :PORT (%v)", v, err)
		}
	}
	return nil
}
