// Package metrics records what ldapd does as Prometheus metrics and serves
// them, with health and readiness endpoints, on an HTTP handler.
//
// A Registry is built per server (no global registry). It implements the
// hooks the other packages expose without importing Prometheus themselves:
// ldapserver.Observer (connections and operations) and idm.Events (failed
// binds, token issue and revocation); Store wraps a directory.Store to time
// its commits, and StoreStats adds the store's size at scrape time.
package metrics

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/ldapd/ldapd/directory"
)

// Registry holds one server's metrics. Its methods are safe for concurrent
// use.
type Registry struct {
	reg           *prometheus.Registry
	ops           *prometheus.CounterVec
	opDuration    *prometheus.HistogramVec
	connsOpen     prometheus.Gauge
	connsTotal    prometheus.Counter
	bindFailures  *prometheus.CounterVec
	tokensIssued  prometheus.Counter
	tokensRevoked prometheus.Counter
	commit        prometheus.Histogram
	// byOp holds the series of each operation ldapserver names, resolved
	// on first use and then read without a lock (see opSeries). Built by
	// New and never changed: a read-only map is safe for concurrent use.
	byOp map[string]*opSeries
}

// opNames are the operation names ldapserver reports (Request.OpName).
// An operation that could not be decoded is reported under its RFC 4511
// name and takes the slower path (a label lookup per operation).
func opNames() []string {
	return []string{"bind", "search", "add", "modify", "delete", "modrdn", "compare", "extended"}
}

// bindCauses are the causes of failed binds, the idm.Cause* constants: each
// has a series from the start, and the help text lists them. Another cause
// still gets its own series.
func bindCauses() []string {
	return []string{"bad_password", "no_account", "disabled", "unauthenticated", "bad_token", "revoked", "expired", "throttled"}
}

// maxFastCode bounds the result codes whose counters opSeries keeps; every
// code RFC 4511 and its extensions define is below it.
const maxFastCode = 128

// opSeries is one operation's duration histogram and its per-result-code
// counters. A series is created by its first observation (so /metrics
// shows only what happened), then kept: OpDone costs an atomic load, a
// counter increment and a histogram observation, with no lock and no
// allocation, instead of hashing the labels (and formatting the code) per
// operation in the vectors.
type opSeries struct {
	duration atomic.Pointer[observer]
	codes    [maxFastCode]atomic.Pointer[counter]
}

type observer struct{ prometheus.Observer }
type counter struct{ prometheus.Counter }

// New returns a Registry with ldapd's metrics and the Go runtime and
// process collectors registered.
func New() *Registry {
	r := &Registry{
		reg: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ldapd_operations_total",
			Help: "LDAP operations answered, by operation and LDAP result code.",
		}, []string{"op", "code"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ldapd_operation_duration_seconds",
			Help:    "Time from decoding an LDAP request to writing its last response, by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ldapd_connections_open",
			Help: "LDAP connections open now (all listeners, including the admin socket).",
		}),
		connsTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ldapd_connections_total",
			Help: "LDAP connections accepted.",
		}),
		bindFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ldapd_bind_failures_total",
			Help: "Failed binds by cause: " + strings.Join(bindCauses(), ", ") + ".",
		}, []string{"cause"}),
		tokensIssued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ldapd_tokens_issued_total",
			Help: "API tokens issued.",
		}),
		tokensRevoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ldapd_tokens_revoked_total",
			Help: "API token records deleted (revoked), alone or with their service account.",
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ldapd_store_commit_duration_seconds",
			Help:    "Duration of committed store write transactions, from start to durable commit (fsync).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
	}
	// Create each cause's series (at zero) from the start.
	for _, c := range bindCauses() {
		r.bindFailures.WithLabelValues(c)
	}
	r.byOp = make(map[string]*opSeries)
	for _, op := range opNames() {
		r.byOp[op] = &opSeries{}
	}
	r.reg.MustRegister(r.ops, r.opDuration, r.connsOpen, r.connsTotal, r.bindFailures, r.tokensIssued, r.tokensRevoked, r.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Gatherer returns the registry the metrics are gathered from.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// ConnOpened implements ldapserver.Observer.
func (r *Registry) ConnOpened() {
	r.connsOpen.Inc()
	r.connsTotal.Inc()
}

// ConnClosed implements ldapserver.Observer.
func (r *Registry) ConnClosed() { r.connsOpen.Dec() }

// OpDone implements ldapserver.Observer. It takes no lock and allocates
// nothing once the operation and result code have been seen.
func (r *Registry) OpDone(op string, code int, d time.Duration) {
	s := r.byOp[op]
	if s == nil || code < 0 || code >= maxFastCode {
		r.ops.WithLabelValues(op, strconv.Itoa(code)).Inc()
		r.opDuration.WithLabelValues(op).Observe(d.Seconds())
		return
	}
	c := s.codes[code].Load()
	if c == nil {
		// Concurrent first uses store the same child: the vector
		// returns one per label set.
		c = &counter{r.ops.WithLabelValues(op, strconv.Itoa(code))}
		s.codes[code].Store(c)
	}
	c.Inc()
	h := s.duration.Load()
	if h == nil {
		h = &observer{r.opDuration.WithLabelValues(op)}
		s.duration.Store(h)
	}
	h.Observe(d.Seconds())
}

// BindFailed implements idm.Events. The throttling of failed binds reports
// its refusals here with the cause "throttled".
func (r *Registry) BindFailed(cause string) { r.bindFailures.WithLabelValues(cause).Inc() }

// TokenIssued implements idm.Events.
func (r *Registry) TokenIssued() { r.tokensIssued.Inc() }

// TokenRevoked implements idm.Events.
func (r *Registry) TokenRevoked() { r.tokensRevoked.Inc() }

// Store returns s with its Update calls timed into the commit histogram.
// View and Close pass through, and so does everything else s offers
// (directory.Versioned, which idm's caches need, bulk loading, ...): the
// result unwraps to s, and directory.As finds them there.
func (r *Registry) Store(s directory.Store) directory.Store {
	if v, ok := s.(directory.Versioned); ok {
		return versionedTimedStore{timedStore{Store: s, commit: r.commit}, v}
	}
	return timedStore{Store: s, commit: r.commit}
}

type timedStore struct {
	directory.Store
	commit prometheus.Histogram
}

// Unwrap implements directory.Wrapper.
func (t timedStore) Unwrap() directory.Store { return t.Store }

func (t timedStore) Update(ctx context.Context, fn func(directory.WriteTx) error) error {
	start := time.Now()
	err := t.Store.Update(ctx, fn)
	if err == nil {
		t.commit.Observe(time.Since(start).Seconds())
	}
	return err
}

// StoreSize is what a store reports of its size.
type StoreSize struct {
	Entries   int   // entries stored
	FileBytes int64 // bytes on disk
}

// StoreStats registers gauges of the store's size, read by calling stats
// at each scrape (bounded by a 5 second timeout). A failing call omits the
// gauges from that scrape and counts ldapd_store_stats_errors_total.
func (r *Registry) StoreStats(stats func(context.Context) (StoreSize, error)) {
	r.reg.MustRegister(&storeCollector{
		stats:   stats,
		entries: prometheus.NewDesc("ldapd_store_entries", "Entries in the directory store.", nil, nil),
		bytes:   prometheus.NewDesc("ldapd_store_file_bytes", "Size of the directory store on disk, in bytes.", nil, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ldapd_store_stats_errors_total",
			Help: "Scrapes whose reading of the store size failed.",
		}),
	})
}

type storeCollector struct {
	stats          func(context.Context) (StoreSize, error)
	entries, bytes *prometheus.Desc
	errors         prometheus.Counter
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.entries
	ch <- c.bytes
	c.errors.Describe(ch)
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		c.errors.Inc()
	} else {
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.FileBytes))
	}
	c.errors.Collect(ch)
}
