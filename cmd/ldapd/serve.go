package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/cli"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/tokens"
)

// serveConfig is everything `ldapd serve` is configured with.
type serveConfig struct {
	data, domain      string
	ldaps, ldap       string
	tlsCert, tlsKey   string
	tlsKeyExchange    string // --tls-key-exchange: certs.KeyExchange
	hostnames         string
	logLevel          string
	logFormat         string
	allowInsecureBind bool
	configFile        string // --config: TOML file of these options (config.go)
	metrics           string // --metrics: address of /metrics, /healthz, /readyz
	https             string // --https: address of the web console and JSON API (console.go)
	limits            serverLimits
	uidRange          string // MIN-MAX for allocated uidNumbers
	gidRange          string // MIN-MAX for allocated gidNumbers
	maxTokens         int    // --max-tokens-per-account
	baseDN            string // --base-dn: the suffix of a new directory
	anonymousRead     string // --anonymous-read: public, posix or none
	// drainPeriod is --drain-period: /readyz 503 before the listeners close (ops.go).
	drainPeriod time.Duration
	// store is --store bolt|etcd and the etcd options (store.go).
	store storeConfig
	// passwordCacheTTL and passwordCacheSize are --password-cache-ttl and
	// --password-cache-size (idm.Config; 0 or less: no cache).
	passwordCacheTTL  time.Duration
	passwordCacheSize int
}

// Files inside the data directory.
func dbPath(data string) string     { return datastore.DBPath(data) }
func keysPath(data string) string   { return datastore.KeysPath(data) }
func tlsDir(data string) string     { return datastore.TLSDir(data) }
func socketPath(data string) string { return datastore.SocketPath(data) }

func serveFlags(cfg *serveConfig) *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.StringVar(&cfg.data, "data", "./data", "data directory (env LDAPD_DATA)")
	fs.StringVar(&cfg.domain, "domain", "", "DNS domain served, e.g. idm.example.com; required at first start, fixed afterwards (env LDAPD_DOMAIN)")
	fs.StringVar(&cfg.ldaps, "ldaps", ":3636", "LDAPS listen address; empty disables (env LDAPD_LDAPS)")
	fs.StringVar(&cfg.ldap, "ldap", ":3389", "LDAP+StartTLS listen address; empty disables (env LDAPD_LDAP)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate chain; default: generated in DATA/tls (env LDAPD_TLS_CERT)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key for --tls-cert (env LDAPD_TLS_KEY)")
	fs.StringVar(&cfg.tlsKeyExchange, "tls-key-exchange", string(certs.DefaultKeyExchange),
		"hybrid (post-quantum X25519MLKEM768 first, then X25519 and NIST curves) or classical (X25519 and NIST curves only: less CPU per new connection) (env LDAPD_TLS_KEY_EXCHANGE)")
	fs.StringVar(&cfg.hostnames, "hostnames", "", "extra comma-separated names for the generated certificate; its CA may vouch for these names only, so a name the certificate lacks makes a new CA that clients must trust again (env LDAPD_HOSTNAMES)")
	fs.StringVar(&cfg.logLevel, "log-level", "info", "debug, info, warn or error (env LDAPD_LOG_LEVEL)")
	fs.StringVar(&cfg.logFormat, "log-format", "auto", "auto (console on a terminal, else json), json or console (env LDAPD_LOG_FORMAT)")
	fs.StringVar(&cfg.configFile, "config", "", "TOML file setting any of these options by their long names; flags and environment override it (env LDAPD_CONFIG)")
	fs.StringVar(&cfg.metrics, "metrics", "", "HOST:PORT of an HTTP listener for /metrics, /healthz and /readyz, e.g. 127.0.0.1:9090; empty disables (env LDAPD_METRICS)")
	fs.StringVar(&cfg.https, "https", "", "HOST:PORT of the web console and JSON API over HTTPS with the LDAPS certificate, e.g. 127.0.0.1:8443; empty (the default) disables (env LDAPD_HTTPS)")
	fs.StringVar(&cfg.uidRange, "uid-range", idm.DefaultIDRange.String(),
		"MIN-MAX: uidNumbers allocated to people made POSIX (env LDAPD_UID_RANGE)")
	fs.StringVar(&cfg.gidRange, "gid-range", idm.DefaultIDRange.String(),
		"MIN-MAX: gidNumbers allocated to groups made POSIX (env LDAPD_GID_RANGE)")
	fs.BoolVar(&cfg.allowInsecureBind, "allow-insecure-bind", false,
		"accept passwords and tokens over LDAP without TLS (not recommended; env LDAPD_ALLOW_INSECURE_BIND=true)")
	fs.IntVar(&cfg.maxTokens, "max-tokens-per-account", idm.DefaultMaxTokensPerAccount,
		"API tokens one service account may hold; generating more fails until old ones are destroyed (env LDAPD_MAX_TOKENS_PER_ACCOUNT)")
	fs.StringVar(&cfg.baseDN, "base-dn", "",
		"suffix of a new directory, e.g. o=idm (Kanidm's set-ldap-basedn); default: from --domain; fixed at first start (env LDAPD_BASE_DN)")
	fs.StringVar(&cfg.anonymousRead, "anonymous-read", "public",
		"what anonymous clients read: public (public attributes of every entry), posix (posixAccount and posixGroup entries, NSS attributes only) or none (env LDAPD_ANONYMOUS_READ)")
	fs.DurationVar(&cfg.drainPeriod, "drain-period", defaultDrainPeriod,
		"at shutdown, with --metrics: how long /readyz answers 503 while LDAP is still served, for load balancers to stop sending clients, before the listeners close (env LDAPD_DRAIN_PERIOD)")
	fs.DurationVar(&cfg.passwordCacheTTL, "password-cache-ttl", idm.DefaultPasswordCacheTTL,
		"how long a successful password check is remembered, so that the same password bound again skips argon2id (docs/security.md); 0 or less: never (env LDAPD_PASSWORD_CACHE_TTL)")
	fs.IntVar(&cfg.passwordCacheSize, "password-cache-size", idm.DefaultPasswordCacheSize,
		"accounts whose last successful password check is remembered; 0 or less: none (env LDAPD_PASSWORD_CACHE_SIZE)")
	limitFlags(fs, &cfg.limits)
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
// applied (main's applyEnv): it applies the configuration file and checks
// what the flag types do not.
func runServe(ctx context.Context, e *env, fs *pflag.FlagSet, cfg *serveConfig) error {
	configWarning, err := checkConfigFileMode(cfg.configFile)
	if err != nil {
		return err
	}
	if err := applyConfigFile(fs, cfg.configFile, "config"); err != nil {
		return err
	}
	// Log lines are buffered (logs.go): flushed every logFlushInterval and
	// here, when serve returns, also after SIGTERM.
	logOut := newLogBuffer(e.stderr, logFlushInterval)
	defer logOut.Close()
	log, err := newLogger(logOut, cfg.logLevel, resolveLogFormat(e, cfg.logFormat))
	if err != nil {
		return fmt.Errorf("%v: %w", err, errUsage)
	}
	if configWarning != "" {
		log.Warn().Str("event", "security").Str("config", cfg.configFile).Msg(configWarning)
	}
	if err := cfg.store.check(); err != nil {
		return err
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: %w", errUsage)
	}
	if _, err := certs.ParseKeyExchange(cfg.tlsKeyExchange); err != nil {
		return fmt.Errorf("--tls-key-exchange: %v: %w", err, errUsage)
	}
	if err := checkOption("max-tokens-per-account", fmt.Sprint(cfg.maxTokens)); err != nil {
		return fmt.Errorf("--max-tokens-per-account: %v: %w", err, errUsage)
	}
	if _, err := acl.ParseAnonymousRead(cfg.anonymousRead); err != nil {
		return fmt.Errorf("--anonymous-read: %v: %w", err, errUsage)
	}
	if cfg.baseDN != "" {
		if _, err := idm.ParseBaseDN(cfg.baseDN); err != nil {
			return fmt.Errorf("--base-dn: %v: %w", err, errUsage)
		}
	}
	return serve(ctx, e, *cfg, log)
}

func newLogger(w io.Writer, level, format string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return zerolog.Logger{}, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339}
	default:
		return zerolog.Logger{}, fmt.Errorf("invalid --log-format %q: want json or console", format)
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// openData opens the store and signing keys of a data directory. Keys are
// made when there are none only for a directory never started (or with
// regenerate, --keyring-regenerate): new keys would silently invalidate
// every token issued.
func openData(data string, lockTimeout time.Duration, regenerate bool) (directory.Store, *tokens.Keyring, error) {
	return datastore.OpenBolt(data, boltstore.Options{Timeout: lockTimeout}, regenerate)
}

// storedDomain reads the domain fixed at first start, "" if none.
func storedDomain(ctx context.Context, store directory.Store) (string, error) {
	return idm.StoredDomain(ctx, store)
}

func serve(ctx context.Context, e *env, cfg serveConfig, log zerolog.Logger) error {
	uidRange, gidRange, err := idRanges(cfg)
	if err != nil {
		return err
	}
	was, err := secureDataDir(cfg.data)
	if err != nil {
		return err
	}
	if was != 0 {
		log.Warn().Str("event", "security").Str("data", cfg.data).
			Msgf("data directory %s had mode %04o: other local users could reach the admin socket and the keys; tightened it to 0700", cfg.data, was)
	}
	warnInsecureOptions(cfg, log)
	store, keys, err := cfg.store.openData(ctx, cfg.data, time.Second)
	if err != nil {
		return err
	}
	defer store.Close()
	ops := newOps(cfg.metrics, store)
	reportView(ops.reg, log, store)
	if cfg.domain == "" {
		if cfg.domain, err = storedDomain(ctx, store); err != nil {
			return err
		}
		if cfg.domain == "" {
			return fmt.Errorf("the first start needs --domain (or LDAPD_DOMAIN), e.g. --domain idm.example.com: %w", errUsage)
		}
	}
	anonRead, _ := acl.ParseAnonymousRead(cfg.anonymousRead) // checked by runServe
	svc, err := idm.New(idm.Config{
		Store: ops.wrap(store), Domain: cfg.domain, BaseDN: cfg.baseDN, AnonymousRead: anonRead,
		Keys: keys, Logger: log, Events: ops.events(),
		Extensions: gateway.Extensions(), Controls: gateway.Controls(), VendorVersion: version,
		UIDRange: uidRange, GIDRange: gidRange, MaxTokensPerAccount: cfg.maxTokens,
		PasswordCacheTTL: cacheOff(cfg.passwordCacheTTL), PasswordCacheSize: cacheOff(cfg.passwordCacheSize),
	})
	if err != nil {
		return err
	}
	first, err := svc.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if first {
		log.Info().Str("domain", cfg.domain).Str("base", svc.Base().String()).
			Msg("created a new directory; set the admin passwords with: ldapd recover-account admin (and idm_admin)")
	}
	reloader, caFile, err := serverTLS(cfg, log)
	if err != nil {
		return err
	}
	kx, err := certs.ParseKeyExchange(cfg.tlsKeyExchange)
	if err != nil {
		return err
	}
	tlsConfig := reloader.Config(kx)
	defer reloadOnHUP(ctx, reloader, log)()
	handler := &gateway.Gateway{IDM: svc}
	srv := &ldapserver.Server{Handler: handler, TLSConfig: tlsConfig, Controls: gateway.Controls(),
		AllowInsecureBind: cfg.allowInsecureBind, Logger: log}
	cfg.limits.apply(srv)
	admin := &ldapserver.Server{Handler: &backup.Handler{Next: handler, IDM: svc, Store: store, Keys: keys, Data: cfg.data, Log: log}, Controls: gateway.Controls(), AllowInsecureBind: true, Logger: log,
		InitialIdentity: func(net.Conn) ldapserver.Identity { return idm.RootIdentity() }}
	ops.observe(srv, admin)

	runs, closers, err := listenAll(cfg, srv, admin, log)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return err
	}
	if caFile != "" {
		log.Info().Str("ca", caFile).Msg("clients trust the generated CA with LDAPTLS_CACERT=" + caFile)
	}

	ops.setReady(true) // every listener is bound
	stopOps, err := ops.start(cfg.metrics, log)
	if err != nil {
		return err
	}
	defer stopOps()
	stopConsole, err := startConsole(cfg, svc, tlsConfig, log)
	if err != nil {
		return err
	}
	defer stopConsole()
	log.Info().Msg("serving") // every listener is bound, the admin socket too
	// /readyz turns 503 for --drain-period as the shutdown starts, then the
	// listeners close and operations in flight get 10 seconds.
	return runUntilDone(ctx, runs, log, func() { ops.drain(cfg.drainPeriod, log) }, srv, admin)
}

// listenAll binds the LDAPS and LDAP listeners and the admin socket, and
// returns one function per listener that serves it until shutdown. The
// closers are returned even on error, for the caller to close.
func listenAll(cfg serveConfig, srv, admin *ldapserver.Server, log zerolog.Logger) ([]func() error, []io.Closer, error) {
	var runs []func() error
	var closers []io.Closer
	listen := func(addr string, serveFn func(net.Listener) error, what string) error {
		if addr == "" {
			return nil
		}
		ln, err := listenTCP(addr)
		if err != nil {
			return fmt.Errorf("listen for %s on %s: %w", what, addr, err)
		}
		closers = append(closers, ln)
		log.Info().Str("addr", ln.Addr().String()).Msg("listening for " + what)
		runs = append(runs, func() error { return serveFn(ln) })
		return nil
	}
	if err := listen(cfg.ldaps, srv.ServeTLS, "LDAPS"); err != nil {
		return nil, closers, err
	}
	if err := listen(cfg.ldap, srv.Serve, "LDAP (StartTLS)"); err != nil {
		return nil, closers, err
	}
	sock, err := listenSocket(socketPath(cfg.data), log)
	if err != nil {
		return nil, closers, err
	}
	closers = append(closers, sock)
	runs = append(runs, func() error { return admin.Serve(sock) })
	return runs, closers, nil
}

// runUntilDone serves every listener until ctx ends or one fails, calls
// stopping, shuts the servers down (in-flight operations get 10 seconds)
// and waits for every serving goroutine. It returns the first listener
// failure.
func runUntilDone(ctx context.Context, runs []func() error, log zerolog.Logger, stopping func(), servers ...*ldapserver.Server) error {
	errc := make(chan error, len(runs))
	for _, run := range runs {
		go func() { errc <- run() }()
	}
	var serveErr error
	pending := len(runs)
	select {
	case <-ctx.Done():
		log.Info().Msg("shutting down")
	case serveErr = <-errc:
		pending--
		log.Error().Err(serveErr).Msg("listener failed; shutting down")
	}
	stopping()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	for ; pending > 0; pending-- {
		if err := <-errc; serveErr == nil && err != nil && !errors.Is(err, ldapserver.ErrServerClosed) {
			serveErr = err
		}
	}
	if errors.Is(serveErr, ldapserver.ErrServerClosed) {
		serveErr = nil
	}
	return serveErr
}

// serverTLS loads the operator's key pair or makes the local CA's, as a
// Reloader that SIGHUP reloads; it warns about key files others can read.
func serverTLS(cfg serveConfig, log zerolog.Logger) (*certs.Reloader, string, error) {
	if cfg.tlsCert != "" {
		warnPermissions(log, []string{cfg.tlsCert}, []string{cfg.tlsKey})
		r, err := certs.NewReloader(cfg.tlsCert, cfg.tlsKey)
		return r, "", err
	}
	var hosts []string
	for _, h := range strings.Split(cfg.hostnames, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	g, err := certs.Generate(tlsDir(cfg.data), hosts, time.Now())
	if err != nil {
		return nil, "", fmt.Errorf("--hostnames / generated TLS material: %w", err)
	}
	f := g.Files
	if g.NewCA {
		ips := make([]string, len(g.IPs))
		for i, ip := range g.IPs {
			ips[i] = ip.String()
		}
		ev := log.Info()
		if !strings.HasPrefix(g.NewCAReason, "first use") {
			ev = log.Warn().Str("event", "security") // clients that trusted the old CA must trust the new one
		}
		ev.Str("ca", f.CA).Str("reason", g.NewCAReason).Strs("dns_names", g.DNSNames).Strs("ips", ips).
			Time("not_after", g.NotAfter).
			Msg("made a new local CA and server certificate; the CA may vouch only for these names and its key was not kept: clients must trust this " + f.CA)
	}
	for _, w := range g.Warnings {
		log.Warn().Str("event", "security").Msg(w)
	}
	warnPermissions(log, []string{f.Cert, f.CA}, []string{f.Key})
	r, err := certs.NewReloader(f.Cert, f.Key)
	return r, f.CA, err
}

// warnInsecureOptions logs, at start, each option that weakens security.
func warnInsecureOptions(cfg serveConfig, log zerolog.Logger) {
	if cfg.allowInsecureBind {
		log.Warn().Str("event", "security").Str("flag", "allow-insecure-bind").
			Msg("--allow-insecure-bind (allow-insecure-bind = true, LDAPD_ALLOW_INSECURE_BIND): passwords and tokens are accepted over LDAP without TLS")
	}
	if cfg.store.kind == storeEtcd && cfg.store.allowPlaintext {
		if plain := cfg.store.plaintextEndpoints(); len(plain) > 0 {
			log.Warn().Str("event", "security").Str("flag", "etcd-allow-plaintext").Strs("endpoints", plain).
				Msg("--etcd-allow-plaintext: talking to etcd without TLS; password hashes and the sealed signing keys cross the network in clear")
		}
	}
	if cfg.store.kind == storeEtcd && cfg.store.regenerateKeyring {
		log.Warn().Str("event", "security").Str("flag", "keyring-regenerate").
			Msg("--keyring-regenerate: if the token signing keys are missing, new ones are made and every token issued before stops working; remove the flag after this start")
	}
}

// checkConfigFileMode refuses a configuration file that anyone may write
// (whoever can write it chooses the TLS key, the listeners, the etcd
// endpoints) and returns a warning for one its group may write.
func checkConfigFileMode(path string) (warning string, err error) {
	if path == "" {
		return "", nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("config: %w", err)
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o002 != 0:
		return "", fmt.Errorf("config %s has mode %04o: any local user can write it and so choose how ldapd runs; refusing it. Run chmod o-w %s (644 or 600)",
			path, perm, path)
	case perm&0o020 != 0:
		return fmt.Sprintf("config %s has mode %04o: its group can write it and so choose how ldapd runs; chmod g-w %s", path, perm, path), nil
	}
	return "", nil
}

// secureDataDir creates the data directory 0700 or, if it exists with
// any group or other permission bit, tightens it to 0700: the directory
// holds the admin socket (root identity), the signing keys and the TLS
// keys, and its mode is what first keeps other local users out. It returns
// the mode it found when it tightened it (0 otherwise), for a warning; if
// the directory cannot be tightened, serving is refused.
func secureDataDir(data string) (was os.FileMode, err error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return 0, fmt.Errorf("create data directory: %w", err)
	}
	fi, err := os.Stat(data)
	if err != nil {
		return 0, fmt.Errorf("data directory: %w", err)
	}
	if !fi.IsDir() {
		return 0, fmt.Errorf("data directory %s is not a directory", data)
	}
	perm := fi.Mode().Perm()
	if perm&0o077 == 0 {
		return 0, nil
	}
	if err := os.Chmod(data, 0o700); err != nil {
		return 0, fmt.Errorf("data directory %s has mode %04o (group or others can reach the admin socket and the keys) and cannot be tightened to 0700: %w; "+
			"run chmod 700 %s as its owner, or serve as the user who owns it", data, perm, err, data)
	}
	return perm, nil
}

// cacheOff maps the password cache flags' "0 or less: off" to idm.Config's
// "negative: off" (0 there means the default).
func cacheOff[T int | time.Duration](v T) T {
	if v <= 0 {
		return -1
	}
	return v
}

// idRanges parses --uid-range and --gid-range (empty: the default).
func idRanges(cfg serveConfig) (uid, gid idm.IDRange, err error) {
	parse := func(flag, v string) (idm.IDRange, error) {
		if v == "" {
			return idm.DefaultIDRange, nil
		}
		r, err := idm.ParseIDRange(v)
		if err != nil {
			return r, fmt.Errorf("--%s: %v: %w", flag, err, errUsage)
		}
		return r, nil
	}
	if uid, err = parse("uid-range", cfg.uidRange); err != nil {
		return uid, gid, err
	}
	gid, err = parse("gid-range", cfg.gidRange)
	return uid, gid, err
}
