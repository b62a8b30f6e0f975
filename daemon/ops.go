package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/etcdstore"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/metrics"
)

// ops is the operator's view of a running server: the metrics registry
// (nil without --metrics) and the /healthz, /readyz and /metrics listener.
type ops struct {
	reg   *metrics.Registry
	store directory.Store
	ready atomic.Bool // the LDAP listeners are up
}

// newOps prepares metrics for store when addr (--metrics) is set.
func newOps(addr string, store directory.Store) *ops {
	o := &ops{store: store}
	if addr == "" {
		return o
	}
	o.reg = metrics.New()
	if st, ok := directory.As[interface {
		Stats(context.Context) (boltstore.Stats, error)
	}](store); ok {
		o.reg.StoreStats(func(ctx context.Context) (metrics.StoreSize, error) {
			s, err := st.Stats(ctx)
			return metrics.StoreSize{Entries: s.Entries, FileBytes: s.FileBytes}, err
		})
	}
	return o
}

// wrap returns the store idm should use: timed when metrics are on.
func (o *ops) wrap(s directory.Store) directory.Store {
	if o.reg == nil {
		return s
	}
	return o.reg.Store(s)
}

// events returns idm's Events hook, nil when metrics are off.
func (o *ops) events() idm.Events {
	if o.reg == nil {
		return nil
	}
	return o.reg
}

// observe makes the servers report connections and operations.
func (o *ops) observe(servers ...*ldapserver.Server) {
	if o.reg == nil {
		return
	}
	for _, s := range servers {
		s.Observer = o.reg
	}
}

// setReady marks the LDAP listeners up (or going down).
func (o *ops) setReady(up bool) { o.ready.Store(up) }

// drain marks the server unready and, when /readyz is served, waits d so
// that load balancers see the 503 while LDAP is still served: only then
// do the listeners close.
func (o *ops) drain(d time.Duration, log zerolog.Logger) {
	o.setReady(false)
	if o.reg == nil || d <= 0 {
		return
	}
	log.Info().Dur("drain_period", d).Msg("/readyz answers 503; closing the listeners after the drain period")
	time.Sleep(d)
}

// readiness is /readyz: the listeners are up and the store answers a read.
func (o *ops) readiness(ctx context.Context) error {
	if !o.ready.Load() {
		return errors.New("LDAP listeners are not up")
	}
	if err := o.store.View(ctx, func(directory.ReadTx) error { return nil }); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// start serves /metrics, /healthz and /readyz on addr until the returned
// stop is called; stop shuts the listener down and waits for its
// goroutine. Nothing is started without --metrics.
func (o *ops) start(addr string, log zerolog.Logger) (stop func(), err error) {
	if o.reg == nil {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn().Str("addr", ln.Addr().String()).Msg("the metrics listener is not on loopback: anyone who reaches it reads the metrics")
	}
	log.Info().Str("addr", ln.Addr().String()).Msg("listening for metrics and health checks (/metrics, /healthz, /readyz)")
	hs := &http.Server{Handler: o.reg.Handler(o.readiness), ReadHeaderTimeout: 5 * time.Second}
	return serveHTTP(hs, ln, "metrics", log), nil
}

// serveHTTP serves hs on ln in a goroutine, logging a failure as what's;
// stop shuts it down (requests in flight get 5 seconds) and waits for the
// goroutine.
func serveHTTP(hs *http.Server, ln net.Listener, what string, log zerolog.Logger) (stop func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Msg(what + " listener failed")
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
	}
}

// reportView logs the local view of an etcd store, if it has one, and
// registers its metrics (reg nil: --metrics is off).
func reportView(reg *metrics.Registry, log zerolog.Logger, store directory.Store) {
	vs, ok := store.(interface {
		ViewStats() (etcdstore.ViewStats, bool)
	})
	if !ok {
		return
	}
	st, ok := vs.ViewStats()
	if !ok {
		return
	}
	log.Info().Int64("revision", st.Revision).Int("keys", st.Keys).Int64("bytes", st.Bytes).Bool("disabled", st.Disabled).
		Msg("loaded the local view of the etcd store")
	if reg == nil {
		return
	}
	reg.ViewStats(func() metrics.ViewState {
		st, _ := vs.ViewStats()
		return metrics.ViewState{Revision: st.Revision, Lag: st.Lag(), StalenessSec: st.Staleness.Seconds(), Stale: st.Stale,
			Reloads: st.Reloads, Keys: st.Keys, Bytes: st.Bytes, Disabled: st.Disabled}
	})
}
