package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/directory/boltstore"
	"github.com/ldapd/ldapd/directory/storetest"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/ldaptest"
	"github.com/ldapd/ldapd/metrics"
	"github.com/ldapd/ldapd/password"
)

// The Registry is the hook each package exposes.
var (
	_ ldapserver.Observer = (*metrics.Registry)(nil)
	_ idm.Events          = (*metrics.Registry)(nil)
)

// stack wires the real server with a Registry the way ldapd serve does.
type stack struct {
	srv     *ldaptest.Server
	store   directory.Store
	reg     *metrics.Registry
	http    *httptest.Server
	adminPW string
}

func newStack(t *testing.T) *stack { return newStackClock(t, nil) }

// newStackClock is newStack with idm's clock (nil: time.Now).
func newStackClock(t *testing.T, now func() time.Time) *stack {
	t.Helper()
	store := stacktest.OpenStore(t)
	reg := metrics.New()
	svc := stacktest.NewService(t, idm.Config{
		Store: reg.Store(store), Events: reg, Now: now,
		Hasher:     password.NewHasher(password.TestParams(), nil, 0),
		Extensions: gateway.Extensions(), Controls: gateway.Controls(),
	})
	ctx := context.Background()
	s := &stack{store: store, reg: reg}
	var err error
	if s.adminPW, err = svc.RecoverAccount(ctx, "idm_admin"); err != nil {
		t.Fatal(err)
	}
	stats := store.(interface {
		Stats(context.Context) (boltstore.Stats, error)
	})
	reg.StoreStats(func(ctx context.Context) (metrics.StoreSize, error) {
		st, err := stats.Stats(ctx)
		return metrics.StoreSize{Entries: st.Entries, FileBytes: st.FileBytes}, err
	})
	s.srv = ldaptest.NewServer(t, &ldapserver.Server{
		Handler: &gateway.Gateway{IDM: svc}, Controls: gateway.Controls(), Observer: reg,
	})
	s.http = httptest.NewServer(reg.Handler(func(ctx context.Context) error {
		return store.View(ctx, func(directory.ReadTx) error { return nil })
	}))
	t.Cleanup(s.http.Close)
	return s
}

func (s *stack) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := http.Get(s.http.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// scrape returns every sample of /metrics by its series name with labels,
// as the text format writes it.
func (s *stack) scrape(t *testing.T) map[string]float64 {
	t.Helper()
	code, body := s.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

func TestMetricsAfterLDAPTraffic(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	before := s.scrape(t)

	c := s.srv.Dial(t)
	defer c.Close()
	if err := c.Bind("idm_admin", s.adminPW); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][2]string{{"idm_admin", "wrong"}, {"nobody", "x"}, {"dn=token", "not-a-token"}} {
		if err := c.Bind(bad[0], bad[1]); err == nil {
			t.Fatalf("bind %s succeeded", bad[0])
		}
	}

	cl, err := admin.Dial(ctx, admin.Config{URL: s.srv.LDAPSURL, CAFile: s.srv.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Bind(ctx, "idm_admin", s.adminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateServiceAccount(ctx, "svc", "Service", "idm_admin"); err != nil {
		t.Fatal(err)
	}
	tok, err := cl.GenerateToken(ctx, "svc", admin.TokenRequest{Label: "metrics test"})
	if err != nil {
		t.Fatal(err)
	}
	tc := s.srv.Dial(t)
	defer tc.Close()
	if err := tc.Bind("dn=token", tok.Token); err != nil {
		t.Fatalf("token bind: %v", err)
	}
	if err := cl.DestroyToken(ctx, "svc", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := tc.Bind("dn=token", tok.Token); err == nil {
		t.Fatal("bind with a revoked token succeeded")
	}

	// The server counts an operation just after writing its response; on
	// each connection, the answer to one more request (a root DSE read)
	// proves the operations before it were counted.
	for _, conn := range []*ldap.Conn{c, tc} {
		if _, err := conn.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cl.GetServiceAccount(ctx, "svc"); err != nil {
		t.Fatal(err)
	}

	after := s.scrape(t)
	delta := func(series string) float64 { return after[series] - before[series] }
	for series, want := range map[string]float64{
		`ldapd_bind_failures_total{cause="bad_password"}`: 1,
		`ldapd_bind_failures_total{cause="no_account"}`:   1,
		`ldapd_bind_failures_total{cause="bad_token"}`:    1,
		`ldapd_bind_failures_total{cause="revoked"}`:      1,
		`ldapd_bind_failures_total{cause="expired"}`:      0,
		`ldapd_bind_failures_total{cause="throttled"}`:    0,
		`ldapd_tokens_issued_total`:                       1,
		`ldapd_tokens_revoked_total`:                      1,
		// 3 direct binds + 2 token binds fail or succeed as above, plus the
		// admin client's bind: 6 binds, 4 of them invalidCredentials (49).
		`ldapd_operations_total{code="0",op="bind"}`:            2 + 1,
		`ldapd_operations_total{code="49",op="bind"}`:           4,
		`ldapd_operation_duration_seconds_count{op="bind"}`:     7,
		`ldapd_operations_total{code="0",op="add"}`:             1,
		`ldapd_operations_total{code="0",op="delete"}`:          1,
		`ldapd_store_commit_duration_seconds_count`:             2, // add, token record (the delete is counted below)
		`ldapd_connections_total`:                               3,
		`ldapd_operation_duration_seconds_count{op="extended"}`: 1,
	} {
		got := delta(series)
		if series == `ldapd_store_commit_duration_seconds_count` {
			if got < want {
				t.Errorf("%s moved by %v, want at least %v", series, got, want)
			}
			continue
		}
		if got != want {
			t.Errorf("%s moved by %v, want %v", series, got, want)
		}
	}
	if after[`ldapd_connections_open`] < 2 {
		t.Errorf("ldapd_connections_open = %v with 2 clients still connected", after[`ldapd_connections_open`])
	}
	if after[`ldapd_store_entries`] < 10 || after[`ldapd_store_file_bytes`] <= 0 {
		t.Errorf("store gauges: entries %v, bytes %v", after[`ldapd_store_entries`], after[`ldapd_store_file_bytes`])
	}
	if _, ok := after[`go_goroutines`]; !ok {
		t.Errorf("no Go runtime metrics")
	}
}

func TestHealthAndReadiness(t *testing.T) {
	s := newStack(t)
	if code, body := s.get(t, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := s.get(t, "/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	if err := s.store.Close(); err != nil {
		t.Fatal(err)
	}
	if code, body := s.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.HasPrefix(body, "not ready: ") {
		t.Errorf("/readyz with the store closed = %d %q", code, body)
	}
	if code, _ := s.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz with the store closed = %d", code)
	}
}

func TestStoreStatsError(t *testing.T) {
	reg := metrics.New()
	reg.StoreStats(func(context.Context) (metrics.StoreSize, error) { return metrics.StoreSize{}, context.DeadlineExceeded })
	s := &stack{reg: reg, http: httptest.NewServer(reg.Handler(nil))}
	defer s.http.Close()
	got := s.scrape(t)
	if _, ok := got[`ldapd_store_entries`]; ok {
		t.Error("store gauges present although Stats failed")
	}
	if got[`ldapd_store_stats_errors_total`] != 1 {
		t.Errorf("ldapd_store_stats_errors_total = %v", got[`ldapd_store_stats_errors_total`])
	}
}

// TestThrottledBindsCounted: with a stopped clock, repeated wrong
// passwords for one account end up refused by the throttle, and each
// refusal is counted as "throttled", not as a wrong password.
func TestThrottledBindsCounted(t *testing.T) {
	now := time.Now()
	s := newStackClock(t, func() time.Time { return now })
	c := s.srv.Dial(t)
	defer c.Close()
	const tries = 12
	for range tries {
		if err := c.Bind("idm_admin", "wrong"); err == nil {
			t.Fatal("bind with a wrong password succeeded")
		}
	}
	got := s.scrape(t)
	bad, throttled := got[`ldapd_bind_failures_total{cause="bad_password"}`], got[`ldapd_bind_failures_total{cause="throttled"}`]
	if throttled < 1 || bad+throttled != tries {
		t.Errorf("bad_password %v + throttled %v, want %d with some throttled", bad, throttled, tries)
	}
}

// BenchmarkOpDone is the cost the metrics add to each LDAP operation.
func BenchmarkOpDone(b *testing.B) {
	reg := metrics.New()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			reg.OpDone("search", 0, 150*time.Microsecond)
		}
	})
}

// TestStoreHidesNoCapability: the commit-timing wrapper passes on all the
// store offers. Without it idm's caches, which need directory.Versioned,
// turned off as soon as --metrics was on (WhoAmI cost 2.2x).
func TestStoreHidesNoCapability(t *testing.T) {
	storetest.CheckWrapper(t, stacktest.OpenStore(t), metrics.New().Store)

	// The check fails for a wrapper that embeds the store but does not
	// unwrap to it (what this wrapper was before).
	var rec recorder
	storetest.CheckWrapper(&rec, stacktest.OpenStore(t), func(s directory.Store) directory.Store { return hiding{s} })
	for _, want := range []string{"directory.Versioned", "directory.BulkAdder", "directory.Verifier", "Backup", "Stats"} {
		if !strings.Contains(strings.Join(rec.errs, "\n"), want) {
			t.Errorf("CheckWrapper did not report the hidden %s; it reported:\n%s", want, strings.Join(rec.errs, "\n"))
		}
	}
}

// TestStoreConformance runs the Store contract through the wrapper.
func TestStoreConformance(t *testing.T) {
	reg := metrics.New()
	storetest.Run(t, func(t *testing.T) directory.Store { return reg.Store(stacktest.OpenStore(t)) })
}

type hiding struct{ directory.Store }

type recorder struct{ errs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestOpDoneCheap: recording an operation allocates nothing once its
// operation and code have been seen, and the counts and durations land in
// the same series as before, also for codes and names off the fast path.
func TestOpDoneCheap(t *testing.T) {
	reg := metrics.New()
	reg.OpDone("search", 0, time.Millisecond)
	if n := testing.AllocsPerRun(1000, func() { reg.OpDone("search", 0, time.Millisecond) }); n != 0 {
		t.Errorf("OpDone allocates %v times per operation, want 0", n)
	}
	reg.OpDone("search", 32, 2*time.Millisecond)
	reg.OpDone("extended", 4096, time.Millisecond) // beyond the fast codes
	reg.OpDone("abandonRequest", 0, time.Millisecond)

	fams, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := []string{}
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{
		"ldapd_operations_total{code=0,op=search}":            1002, // AllocsPerRun runs once more to warm up
		"ldapd_operations_total{code=32,op=search}":           1,
		"ldapd_operations_total{code=4096,op=extended}":       1,
		"ldapd_operations_total{code=0,op=abandonRequest}":    1,
		"ldapd_operation_duration_seconds{op=search}":         1003,
		"ldapd_operation_duration_seconds{op=extended}":       1,
		"ldapd_operation_duration_seconds{op=abandonRequest}": 1,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
	if _, ok := got["ldapd_operation_duration_seconds{op=bind}"]; ok {
		t.Error("a series for an operation never seen")
	}
}
