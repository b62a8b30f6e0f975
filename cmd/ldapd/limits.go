package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// serverLimits are the protocol front end's limits `ldapd serve` exposes
// as flags; zero keeps ldapserver's and wire's documented defaults.
type serverLimits struct {
	maxMessageBytes     int
	maxConnections      int
	maxConnectionsPerIP int
	idleTimeout         time.Duration
	readTimeout         time.Duration
	writeTimeout        time.Duration
	maxTimeLimit        time.Duration
	maxFilterDepth      int
	maxFilterNodes      int
	maxAttributes       int
	maxValues           int
}

// limitFlags registers the limit flags on fs.
func limitFlags(fs *pflag.FlagSet, l *serverLimits) {
	fs.IntVar(&l.maxMessageBytes, "max-message-bytes", wire.DefaultMaxPacketSize, "largest request accepted, in bytes (env LDAPD_MAX_MESSAGE_BYTES)")
	fs.IntVar(&l.maxConnections, "max-connections", 4096, "open connections in all (env LDAPD_MAX_CONNECTIONS)")
	fs.IntVar(&l.maxConnectionsPerIP, "max-connections-per-ip", 1024, "open connections from one client IP address (env LDAPD_MAX_CONNECTIONS_PER_IP)")
	fs.DurationVar(&l.idleTimeout, "idle-timeout", 5*time.Minute, "close a connection idle this long (env LDAPD_IDLE_TIMEOUT)")
	fs.DurationVar(&l.readTimeout, "read-timeout", 30*time.Second, "time to receive one whole request once it starts (slow senders are cut) (env LDAPD_READ_TIMEOUT)")
	fs.DurationVar(&l.writeTimeout, "write-timeout", 30*time.Second, "time to send one response (env LDAPD_WRITE_TIMEOUT)")
	fs.DurationVar(&l.maxTimeLimit, "max-search-time", 60*time.Second, "cap on a search's time limit (env LDAPD_MAX_SEARCH_TIME)")
	fs.IntVar(&l.maxFilterDepth, "max-filter-depth", wire.DefaultMaxFilterDepth, "deepest and/or/not nesting in a search filter (env LDAPD_MAX_FILTER_DEPTH)")
	fs.IntVar(&l.maxFilterNodes, "max-filter-nodes", wire.DefaultMaxFilterNodes, "components in one search filter (env LDAPD_MAX_FILTER_NODES)")
	fs.IntVar(&l.maxAttributes, "max-attributes", wire.DefaultMaxAttributes, "attributes per search, add or modify request (env LDAPD_MAX_ATTRIBUTES)")
	fs.IntVar(&l.maxValues, "max-values", wire.DefaultMaxValues, "attribute values per add or modify request (env LDAPD_MAX_VALUES)")
}

// apply sets the limits on a server.
func (l serverLimits) apply(s *ldapserver.Server) {
	s.MaxMessageBytes = l.maxMessageBytes
	s.MaxConnections = l.maxConnections
	s.MaxConnectionsPerIP = l.maxConnectionsPerIP
	s.IdleTimeout = l.idleTimeout
	s.ReadTimeout = l.readTimeout
	s.WriteTimeout = l.writeTimeout
	s.MaxTimeLimit = l.maxTimeLimit
	s.Limits = wire.Limits{MaxFilterDepth: l.maxFilterDepth, MaxFilterNodes: l.maxFilterNodes,
		MaxAttributes: l.maxAttributes, MaxValues: l.maxValues}
}

// warnPermissions logs a warning for each private key file that group or
// others can access, and each certificate file they can write.
func warnPermissions(log zerolog.Logger, certFiles, keyFiles []string) {
	for _, w := range append(certs.WritableByOthers(certFiles...), certs.LoosePermissions(keyFiles...)...) {
		log.Warn().Str("event", "security").Msg(w)
	}
}

// reloadOnHUP reloads the TLS key pair on each SIGHUP until ctx ends; the
// returned function stops it and waits for its goroutine.
func reloadOnHUP(ctx context.Context, r *certs.Reloader, log zerolog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := r.Reload(); err != nil {
					log.Error().Err(err).Msg("SIGHUP: TLS certificate reload failed; keeping the old one")
				} else {
					log.Info().Msg("SIGHUP: TLS certificate reloaded")
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
