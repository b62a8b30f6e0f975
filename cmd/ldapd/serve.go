package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/daemon"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/cli"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// serveConfig is everything `ldapd serve` is configured with: the
// daemon.Config its flags are bound to, and the store flags (store.go).
type serveConfig struct {
	daemon.Config
	store storeConfig
}

// Files inside the data directory.
func dbPath(data string) string     { return datastore.DBPath(data) }
func keysPath(data string) string   { return datastore.KeysPath(data) }
func socketPath(data string) string { return datastore.SocketPath(data) }

func serveFlags(cfg *serveConfig) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.StringVar(&cfg.Data, "data", "./data", "data directory (env LDAPD_DATA)")
	fs.StringVar(&cfg.Domain, "domain", "", "DNS domain served, e.g. idm.example.com; required at first start, fixed afterwards (env LDAPD_DOMAIN)")
	fs.StringVar(&cfg.LDAPS, "ldaps", ":3636", "LDAPS listen address; empty disables (env LDAPD_LDAPS)")
	fs.StringVar(&cfg.LDAP, "ldap", ":3389", "LDAP+StartTLS listen address; empty disables (env LDAPD_LDAP)")
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "PEM certificate chain; default: generated in DATA/tls (env LDAPD_TLS_CERT)")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "PEM private key for --tls-cert (env LDAPD_TLS_KEY)")
	fs.StringVar(&cfg.TLSKeyExchange, "tls-key-exchange", string(certs.DefaultKeyExchange),
		"hybrid (post-quantum X25519MLKEM768 first, then X25519 and NIST curves) or classical (X25519 and NIST curves only: less CPU per new connection) (env LDAPD_TLS_KEY_EXCHANGE)")
	fs.StringVar(&cfg.Hostnames, "hostnames", "", "extra comma-separated names for the generated certificate; its CA may vouch for these names only, so a name the certificate lacks makes a new CA that clients must trust again (env LDAPD_HOSTNAMES)")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug, info, warn or error (env LDAPD_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", "auto", "auto (console on a terminal, else json), json or console (env LDAPD_LOG_FORMAT)")
	fs.StringVar(&cfg.ConfigFile, "config", "", "TOML file setting any of these options by their long names; flags and environment override it (env LDAPD_CONFIG)")
	fs.StringVar(&cfg.Metrics, "metrics", "", "HOST:PORT of an HTTP listener for /metrics, /healthz and /readyz, e.g. 127.0.0.1:9090; empty disables (env LDAPD_METRICS)")
	fs.StringVar(&cfg.HTTPS, "https", "", "HOST:PORT of the web console and JSON API over HTTPS with the LDAPS certificate, e.g. 127.0.0.1:8443; empty (the default) disables (env LDAPD_HTTPS)")
	fs.StringVar(&cfg.UIDRange, "uid-range", idm.DefaultIDRange.String(),
		"MIN-MAX: uidNumbers allocated to people made POSIX (env LDAPD_UID_RANGE)")
	fs.StringVar(&cfg.GIDRange, "gid-range", idm.DefaultIDRange.String(),
		"MIN-MAX: gidNumbers allocated to groups made POSIX (env LDAPD_GID_RANGE)")
	fs.BoolVar(&cfg.AllowInsecureBind, "allow-insecure-bind", false,
		"accept passwords and tokens over LDAP without TLS (not recommended; env LDAPD_ALLOW_INSECURE_BIND=true)")
	fs.IntVar(&cfg.MaxTokens, "max-tokens-per-account", idm.DefaultMaxTokensPerAccount,
		"API tokens one service account may hold; generating more fails until old ones are destroyed (env LDAPD_MAX_TOKENS_PER_ACCOUNT)")
	fs.StringVar(&cfg.BaseDN, "base-dn", "",
		"suffix of a new directory, e.g. o=idm (Kanidm's set-ldap-basedn); default: from --domain; fixed at first start (env LDAPD_BASE_DN)")
	fs.StringVar(&cfg.AnonymousRead, "anonymous-read", "public",
		"what anonymous clients read: public (public attributes of every entry), posix (posixAccount and posixGroup entries, NSS attributes only) or none (env LDAPD_ANONYMOUS_READ)")
	fs.DurationVar(&cfg.DrainPeriod, "drain-period", daemon.DefaultDrainPeriod,
		"at shutdown, with --metrics: how long /readyz answers 503 while LDAP is still served, for load balancers to stop sending clients, before the listeners close (env LDAPD_DRAIN_PERIOD)")
	fs.DurationVar(&cfg.PasswordCacheTTL, "password-cache-ttl", idm.DefaultPasswordCacheTTL,
		"how long a successful password check is remembered, so that the same password bound again skips argon2id (docs/security.md); 0 or less: never (env LDAPD_PASSWORD_CACHE_TTL)")
	fs.IntVar(&cfg.PasswordCacheSize, "password-cache-size", idm.DefaultPasswordCacheSize,
		"accounts whose last successful password check is remembered; 0 or less: none (env LDAPD_PASSWORD_CACHE_SIZE)")
	limitFlags(fs, &cfg.Limits)
	cfg.store.register(fs)
	cfg.store.registerView(fs)
	return cli.WithEnv(fs)
}

func serveCmd(e *env) *cobra.Command {
	var cfg serveConfig
	c := &cobra.Command{
		Use:   "serve [flags]",
		Short: "run the directory server",
		Long: `
Serve the directory over LDAPS and LDAP with StartTLS from an embedded bbolt
file in the data directory. The first start creates the directory tree for
--domain, the built-in accounts admin and idm_admin (without passwords: set
them with 'ldapd recover-account NAME'), a token signing key and, unless
--tls-cert is given, a local CA (DATA/tls/ca.pem) and server certificate:
the CA is limited to the certificate's names, its key is not kept, and
both last two years (README "Trusting the generated CA").

Every flag can also be set by its environment variable (shown with it) or
by its long name in the TOML file given with --config; a flag overrides the
environment, which overrides the file. See docs/configuration.md.`,
		Example: cli.Examples(
			"ldapd serve --data ./data --domain idm.example.com",
			"ldapd serve --config /etc/ldapd/ldapd.toml --metrics 127.0.0.1:9090",
			"LDAPD_DATA=/var/lib/ldapd ldapd serve --ldaps :636 --ldap :389 --log-level debug"),
		Args: cli.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runServe(c.Context(), e, c.Flags(), &cfg) },
	}
	c.Flags().AddFlagSet(serveFlags(&cfg))
	return c
}

// runServe starts the server once the flags and the environment are
// applied (main's applyEnv): it applies the configuration file, checks
// what daemon does not know of, and runs daemon.Run.
func runServe(ctx context.Context, e *env, fs *pflag.FlagSet, cfg *serveConfig) error {
	configWarning, err := daemon.CheckConfigFileMode(cfg.ConfigFile)
	if err != nil {
		return err
	}
	if err := applyConfigFile(fs, cfg.ConfigFile, "config"); err != nil {
		return err
	}
	if err := checkOption("max-tokens-per-account", fmt.Sprint(cfg.MaxTokens)); err != nil {
		return fmt.Errorf("--max-tokens-per-account: %v: %w", err, errUsage)
	}
	err = daemon.Run(ctx, cfg.daemonConfig(resolveLogFormat(e, cfg.LogFormat), configWarning), e.stderr)
	if errors.Is(err, daemon.ErrUsage) {
		return daemonUsage{err}
	}
	return err
}

// daemonUsage is a usage error of daemon's as this command's (exit
// status 2), its message unchanged.
type daemonUsage struct{ error }

func (d daemonUsage) Unwrap() []error { return []error{d.error, errUsage} }

// daemonConfig is the server configuration the flags select, with
// --log-format resolved (resolveLogFormat).
func (cfg *serveConfig) daemonConfig(logFormat, configWarning string) daemon.Config {
	c := cfg.Config
	c.LogFormat, c.ConfigWarning, c.Store, c.Version = logFormat, configWarning, cfg.store.options(), version
	c.PasswordCacheTTL, c.PasswordCacheSize = cacheOff(c.PasswordCacheTTL), cacheOff(c.PasswordCacheSize)
	return c
}

// cacheOff maps the password cache flags' "0 or less: off" to idm.Config's
// "negative: off" (0 there means the default).
func cacheOff[T int | time.Duration](v T) T {
	if v <= 0 {
		return -1
	}
	return v
}

// limitFlags registers the protocol front end's limit flags on fs.
func limitFlags(fs *pflag.FlagSet, l *daemon.Limits) {
	fs.IntVar(&l.MaxMessageBytes, "max-message-bytes", wire.DefaultMaxPacketSize, "largest request accepted, in bytes (env LDAPD_MAX_MESSAGE_BYTES)")
	fs.IntVar(&l.MaxConnections, "max-connections", 4096, "open connections in all (env LDAPD_MAX_CONNECTIONS)")
	fs.IntVar(&l.MaxConnectionsPerIP, "max-connections-per-ip", 1024, "open connections from one client IP address (env LDAPD_MAX_CONNECTIONS_PER_IP)")
	fs.DurationVar(&l.IdleTimeout, "idle-timeout", 5*time.Minute, "close a connection idle this long (env LDAPD_IDLE_TIMEOUT)")
	fs.DurationVar(&l.ReadTimeout, "read-timeout", 30*time.Second, "time to receive one whole request once it starts (slow senders are cut) (env LDAPD_READ_TIMEOUT)")
	fs.DurationVar(&l.WriteTimeout, "write-timeout", 30*time.Second, "time to send one response (env LDAPD_WRITE_TIMEOUT)")
	fs.DurationVar(&l.MaxTimeLimit, "max-search-time", 60*time.Second, "cap on a search's time limit (env LDAPD_MAX_SEARCH_TIME)")
	fs.IntVar(&l.MaxFilterDepth, "max-filter-depth", wire.DefaultMaxFilterDepth, "deepest and/or/not nesting in a search filter (env LDAPD_MAX_FILTER_DEPTH)")
	fs.IntVar(&l.MaxFilterNodes, "max-filter-nodes", wire.DefaultMaxFilterNodes, "components in one search filter (env LDAPD_MAX_FILTER_NODES)")
	fs.IntVar(&l.MaxAttributes, "max-attributes", wire.DefaultMaxAttributes, "attributes per search, add or modify request (env LDAPD_MAX_ATTRIBUTES)")
	fs.IntVar(&l.MaxValues, "max-values", wire.DefaultMaxValues, "attribute values per add or modify request (env LDAPD_MAX_VALUES)")
}

// parseLevel reads --log-level.
func parseLevel(s string) (zerolog.Level, error) {
	lvl, err := zerolog.ParseLevel(s)
	if err != nil || s == "" {
		return 0, fmt.Errorf("invalid value %q: want debug, info, warn or error", s)
	}
	return lvl, nil
}

// resolveLogFormat turns --log-format auto into console when stderr is a
// terminal and json otherwise; other values pass through.
func resolveLogFormat(e *env, format string) string {
	if format != "auto" && format != "" {
		return format
	}
	if e.stderrTerminal != nil && e.stderrTerminal() {
		return "console"
	}
	return "json"
}
