package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ldapd/ldapd/directory"
)

// ViewState is what a store's local view (etcdstore with
// --etcd-consistency view or linearizable) reports at scrape time.
type ViewState struct {
	Revision     int64   // revision the view has applied
	Lag          int64   // revisions behind the commit fence at the last heartbeat
	StalenessSec float64 // seconds since the view was last confirmed current
	Stale        bool    // past the bound: the node refuses operations
	Reloads      uint64  // snapshot reloads since start
	Keys         int     // keys held
	Bytes        int64   // estimated memory held
	Disabled     bool    // over its memory cap: reads go to etcd
}

// ViewStats registers gauges of the local view, read by calling state at
// each scrape.
func (r *Registry) ViewStats(state func() ViewState) {
	r.reg.MustRegister(&viewCollector{state: state,
		rev:       prometheus.NewDesc("ldapd_etcd_view_revision", "etcd revision the local view has applied.", nil, nil),
		lag:       prometheus.NewDesc("ldapd_etcd_view_lag_revisions", "Revisions the local view is behind the last commit the node confirmed with etcd.", nil, nil),
		staleness: prometheus.NewDesc("ldapd_etcd_view_staleness_seconds", "Seconds since the local view was last confirmed to hold every acknowledged write.", nil, nil),
		stale:     prometheus.NewDesc("ldapd_etcd_view_stale", "1 when the view is past --etcd-max-staleness: operations are refused (busy) and /readyz fails.", nil, nil),
		reloads:   prometheus.NewDesc("ldapd_etcd_view_reloads_total", "Reloads of the local view from an etcd snapshot (compaction, a view stuck behind).", nil, nil),
		keys:      prometheus.NewDesc("ldapd_etcd_view_keys", "etcd keys held in the local view.", nil, nil),
		bytes:     prometheus.NewDesc("ldapd_etcd_view_bytes", "Estimated memory of the local view, in bytes (what --etcd-view-max-bytes caps).", nil, nil),
		disabled:  prometheus.NewDesc("ldapd_etcd_view_disabled", "1 when the view went over --etcd-view-max-bytes and reads go to etcd.", nil, nil),
	})
}

type viewCollector struct {
	state                                                      func() ViewState
	rev, lag, staleness, stale, reloads, keys, bytes, disabled *prometheus.Desc
}

func (c *viewCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.rev, c.lag, c.staleness, c.stale, c.reloads, c.keys, c.bytes, c.disabled} {
		ch <- d
	}
}

func (c *viewCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.state()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(c.rev, float64(s.Revision))
	gauge(c.lag, float64(s.Lag))
	gauge(c.staleness, s.StalenessSec)
	gauge(c.stale, b2f(s.Stale))
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(s.Reloads))
	gauge(c.keys, float64(s.Keys))
	gauge(c.bytes, float64(s.Bytes))
	gauge(c.disabled, b2f(s.Disabled))
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// versionedTimedStore is a timedStore over a directory.Versioned store: it
// keeps the version visible, so that idm's caches stay on with --metrics.
type versionedTimedStore struct {
	timedStore
	v directory.Versioned
}

func (t versionedTimedStore) Version() uint64 { return t.v.Version() }
