package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/backup"
	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/datastore"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/tokens"
)

// ErrUsage marks an error in the configuration the operator gave (a bad
// value, options that do not go together): ldapd exits with status 2.
var ErrUsage = errors.New("usage")

// Config is everything one server process runs with, as plain values: the
// command line fills it from its flags, the environment and the
// configuration file. Messages name the flags (--tls-cert...), which is
// how the operator set them.
type Config struct {
	Data           string // data directory (datastore's layout)
	Domain         string // DNS domain served; "": the one stored at first start
	BaseDN         string // suffix of a new directory; "": from Domain
	LDAPS, LDAP    string // listen addresses; "" disables
	TLSCert        string // PEM certificate chain; "": generated in Data
	TLSKey         string // PEM private key of TLSCert
	TLSKeyExchange string // certs.KeyExchange
	Hostnames      string // extra comma-separated names for the generated certificate
	LogLevel       string // debug, info, warn or error
	LogFormat      string // json or console
	// ConfigFile is the TOML file the configuration came from, if any;
	// ConfigWarning, CheckConfigFileMode's warning about it, is logged at
	// start.
	ConfigFile, ConfigWarning string
	Metrics                   string // address of /metrics, /healthz, /readyz; "" disables
	HTTPS                     string // address of the web console and JSON API; "" disables
	AllowInsecureBind         bool
	Limits                    Limits
	UIDRange, GIDRange        string // MIN-MAX of allocated uid/gidNumbers; "": idm.DefaultIDRange
	MaxTokens                 int    // API tokens per service account
	AnonymousRead             string // acl.ParseAnonymousRead
	// DrainPeriod is how long /readyz answers 503 before the listeners
	// close at shutdown (with Metrics).
	DrainPeriod time.Duration
	Store       datastore.Config
	// PasswordCacheTTL and PasswordCacheSize are idm.Config's (0: the
	// default, negative: no cache).
	PasswordCacheTTL  time.Duration
	PasswordCacheSize int
	Version           string // reported as the root DSE's vendorVersion
}

// DefaultDrainPeriod is the drain period a command line should default
// to: a load balancer that polls /readyz every 2 s and takes 2 failures to
// mark the server down (a common setting) has stopped sending new clients
// by then.
const DefaultDrainPeriod = 5 * time.Second

// Run runs the server until ctx ends (SIGTERM, SIGINT) or a listener
// fails, logging to stderr through a buffer flushed every
// logFlushInterval and when Run returns. Errors in cfg wrap ErrUsage.
func Run(ctx context.Context, cfg Config, stderr io.Writer) error {
	logOut := newLogBuffer(stderr, logFlushInterval)
	defer logOut.Close()
	log, err := newLogger(logOut, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return fmt.Errorf("%v: %w", err, ErrUsage)
	}
	if cfg.ConfigWarning != "" {
		log.Warn().Str("event", "security").Str("config", cfg.ConfigFile).Msg(cfg.ConfigWarning)
	}
	if err := cfg.check(); err != nil {
		return err
	}
	return serve(ctx, cfg, log)
}

// check refuses what the field types let through.
func (cfg Config) check() error {
	if err := usageIf(cfg.Store.Check()); err != nil {
		return err
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together: %w", ErrUsage)
	}
	if _, err := certs.ParseKeyExchange(cfg.TLSKeyExchange); err != nil {
		return fmt.Errorf("--tls-key-exchange: %v: %w", err, ErrUsage)
	}
	if _, err := acl.ParseAnonymousRead(cfg.AnonymousRead); err != nil {
		return fmt.Errorf("--anonymous-read: %v: %w", err, ErrUsage)
	}
	if cfg.BaseDN != "" {
		if _, err := idm.ParseBaseDN(cfg.BaseDN); err != nil {
			return fmt.Errorf("--base-dn: %v: %w", err, ErrUsage)
		}
	}
	return nil
}

// openStore opens the configured store and the token signing keys,
// waiting a second for the bbolt file's lock.
func openStore(ctx context.Context, c datastore.Config, data string) (directory.Store, *tokens.Keyring, error) {
	store, keys, err := datastore.Open(ctx, c, data, time.Second)
	return store, keys, usageIf(err)
}

// usageIf marks a configuration mistake (datastore.ConfigError) as a usage
// error.
func usageIf(err error) error {
	if ce := (*datastore.ConfigError)(nil); errors.As(err, &ce) {
		return fmt.Errorf("%w: %w", err, ErrUsage)
	}
	return err
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
	return zerolog.New(w).Level(lvl).Hook(newStampHook()), nil
}

func serve(ctx context.Context, cfg Config, log zerolog.Logger) error {
	uidRange, gidRange, err := idRanges(cfg)
	if err != nil {
		return err
	}
	was, err := secureDataDir(cfg.Data)
	if err != nil {
		return err
	}
	if was != 0 {
		log.Warn().Str("event", "security").Str("data", cfg.Data).
			Msgf("data directory %s had mode %04o: other local users could reach the admin socket and the keys; tightened it to 0700", cfg.Data, was)
	}
	warnInsecureOptions(cfg, log)
	store, keys, err := openStore(ctx, cfg.Store, cfg.Data)
	if err != nil {
		return err
	}
	defer store.Close()
	ops := newOps(cfg.Metrics, store)
	reportView(ops.reg, log, store)
	if cfg.Domain == "" {
		if cfg.Domain, err = idm.StoredDomain(ctx, store); err != nil {
			return err
		}
		if cfg.Domain == "" {
			return fmt.Errorf("the first start needs --domain (or LDAPD_DOMAIN), e.g. --domain idm.example.com: %w", ErrUsage)
		}
	}
	anonRead, _ := acl.ParseAnonymousRead(cfg.AnonymousRead) // checked by Config.check
	svc, err := idm.New(idm.Config{
		Store: ops.wrap(store), Domain: cfg.Domain, BaseDN: cfg.BaseDN, AnonymousRead: anonRead,
		Keys: keys, Logger: log, Events: ops.events(),
		Extensions: gateway.Extensions(), Controls: gateway.Controls(), VendorVersion: cfg.Version,
		UIDRange: uidRange, GIDRange: gidRange, MaxTokensPerAccount: cfg.MaxTokens,
		PasswordCacheTTL: cfg.PasswordCacheTTL, PasswordCacheSize: cfg.PasswordCacheSize,
	})
	if err != nil {
		return err
	}
	first, err := svc.Bootstrap(ctx)
	if err != nil {
		return err
	}
	if first {
		log.Info().Str("domain", cfg.Domain).Str("base", svc.Base().String()).
			Msg("created a new directory; set the admin passwords with: ldapd recover-account admin (and idm_admin)")
	}
	reloader, caFile, err := serverTLS(cfg, log)
	if err != nil {
		return err
	}
	kx, err := certs.ParseKeyExchange(cfg.TLSKeyExchange)
	if err != nil {
		return err
	}
	tlsConfig := reloader.Config(kx)
	defer reloadOnHUP(ctx, reloader, log)()
	handler := &gateway.Gateway{IDM: svc}
	srv := &ldapserver.Server{Handler: handler, TLSConfig: tlsConfig, Controls: gateway.Controls(),
		AllowInsecureBind: cfg.AllowInsecureBind, Logger: log}
	cfg.Limits.apply(srv)
	admin := &ldapserver.Server{Handler: &backup.Handler{Next: handler, IDM: svc, Store: store, Keys: keys, Data: cfg.Data, Log: log}, Controls: gateway.Controls(), AllowInsecureBind: true, Logger: log,
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
	stopOps, err := ops.start(cfg.Metrics, log)
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
	return runUntilDone(ctx, runs, log, func() { ops.drain(cfg.DrainPeriod, log) }, srv, admin)
}

// listenAll binds the LDAPS and LDAP listeners and the admin socket, and
// returns one function per listener that serves it until shutdown. The
// closers are returned even on error, for the caller to close.
func listenAll(cfg Config, srv, admin *ldapserver.Server, log zerolog.Logger) ([]func() error, []io.Closer, error) {
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
	if err := listen(cfg.LDAPS, srv.ServeTLS, "LDAPS"); err != nil {
		return nil, closers, err
	}
	if err := listen(cfg.LDAP, srv.Serve, "LDAP (StartTLS)"); err != nil {
		return nil, closers, err
	}
	sock, err := listenSocket(datastore.SocketPath(cfg.Data), log)
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

// idRanges parses --uid-range and --gid-range (empty: the default).
func idRanges(cfg Config) (uid, gid idm.IDRange, err error) {
	parse := func(flag, v string) (idm.IDRange, error) {
		if v == "" {
			return idm.DefaultIDRange, nil
		}
		r, err := idm.ParseIDRange(v)
		if err != nil {
			return r, fmt.Errorf("--%s: %v: %w", flag, err, ErrUsage)
		}
		return r, nil
	}
	if uid, err = parse("uid-range", cfg.UIDRange); err != nil {
		return uid, gid, err
	}
	gid, err = parse("gid-range", cfg.GIDRange)
	return uid, gid, err
}
