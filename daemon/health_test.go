package daemon

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealthURL checks the URL a health check asks: --url with its path or
// the default one, the metrics address with a wildcard host on loopback,
// and usage errors for what names no URL.
func TestHealthURL(t *testing.T) {
	for _, tt := range []struct {
		url, addr string
		live      bool
		want      string // or the error's text
	}{
		{"http://127.0.0.1:9090", "", false, "http://127.0.0.1:9090/readyz"},
		{"http://127.0.0.1:9090/", "", true, "http://127.0.0.1:9090/healthz"},
		{"https://h:1/custom", "ignored:2", false, "https://h:1/custom"},
		{"", "0.0.0.0:9090", false, "http://127.0.0.1:9090/readyz"},
		{"", ":9090", true, "http://127.0.0.1:9090/healthz"},
		{"", "[::]:9090", false, "http://127.0.0.1:9090/readyz"},
		{"", "10.0.0.1:9090", false, "http://10.0.0.1:9090/readyz"},
		{"ftp://h:1", "", false, `--url "ftp://h:1": want http://HOST:PORT[/PATH]`},
		{"127.0.0.1:9090", "", false, "want http://HOST:PORT"},
		{"", "", false, "no address: give --url"},
		{"", "nocolon", false, `metrics address "nocolon"`},
	} {
		got, err := HealthURL(tt.url, tt.addr, tt.live)
		if err != nil {
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("HealthURL(%q, %q): %v, want %q (usage)", tt.url, tt.addr, err, tt.want)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("HealthURL(%q, %q, %v) = %q, want %q", tt.url, tt.addr, tt.live, got, tt.want)
		}
	}
}

// TestHealthcheck checks that 200 OK gives the body's text and another
// status an error naming the URL, the status and the body.
func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.Error(w, "store not open", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	ctx := context.Background()
	if msg, err := Healthcheck(ctx, srv.URL+"/readyz"); err != nil || msg != "ok" {
		t.Errorf("ready: %q, %v; want ok", msg, err)
	}
	_, err := Healthcheck(ctx, srv.URL+"/other")
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/other: 503 Service Unavailable: store not open") {
		t.Errorf("not ready: %v", err)
	}
	srv.Close()
	if _, err := Healthcheck(ctx, srv.URL+"/readyz"); err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("closed server: %v, want a non-usage error", err)
	}
}
