package daemon

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/console"
	"github.com/ldapd/ldapd/idm"
)

// startConsole serves the web console and JSON API (package console) on
// cfg.HTTPS over TLS with the LDAPS certificate (tlsConfig, which SIGHUP
// reloads). It is off unless --https is given: a second network surface
// that accepts passwords should be opted into. stop shuts it down (in-flight
// requests get 5 seconds) and waits for its goroutine.
func startConsole(cfg Config, svc *idm.Service, tlsConfig *tls.Config, log zerolog.Logger) (stop func(), err error) {
	if cfg.HTTPS == "" {
		return func() {}, nil
	}
	web, err := console.New(console.Config{IDM: svc, Logger: log, LDAPURL: consoleLDAPURL(cfg)})
	if err != nil {
		return nil, err
	}
	ln, err := listenTCP(cfg.HTTPS)
	if err != nil {
		return nil, fmt.Errorf("listen for the web console on %s: %w", cfg.HTTPS, err)
	}
	tc := tlsConfig.Clone()
	tc.NextProtos = []string{"h2", "http/1.1"}
	hs := &http.Server{Handler: web, TLSConfig: tc, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("listening for the web console and JSON API (HTTPS)")
	return serveHTTP(hs, tls.NewListener(ln, tc), "web console", log), nil
}

// consoleLDAPURL is the LDAPS URL the console shows in its "try it" line:
// the first --hostnames name (else localhost) and the --ldaps port.
func consoleLDAPURL(cfg Config) string {
	_, port, err := net.SplitHostPort(cfg.LDAPS)
	if cfg.LDAPS == "" || err != nil {
		return ""
	}
	host := "localhost"
	if h, _, _ := strings.Cut(cfg.Hostnames, ","); strings.TrimSpace(h) != "" {
		host = strings.TrimSpace(h)
	}
	return "ldaps://" + net.JoinHostPort(host, port)
}
