package daemon

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/datastore"
)

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

// serverTLS loads the operator's key pair or makes the local CA's, as a
// Reloader that SIGHUP reloads; it warns about key files others can read.
func serverTLS(cfg Config, log zerolog.Logger) (*certs.Reloader, string, error) {
	if cfg.TLSCert != "" {
		warnPermissions(log, []string{cfg.TLSCert}, []string{cfg.TLSKey})
		r, err := certs.NewReloader(cfg.TLSCert, cfg.TLSKey)
		return r, "", err
	}
	var hosts []string
	for _, h := range strings.Split(cfg.Hostnames, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	g, err := certs.Generate(datastore.TLSDir(cfg.Data), hosts, time.Now())
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
