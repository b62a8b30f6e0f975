package daemon

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
)

// HealthURL is the URL a health check GETs: url when given (with /readyz,
// or /healthz when live, if it has no path), else the /readyz or /healthz
// of the metrics listener at addr (a wildcard host is asked on
// 127.0.0.1). Errors wrap ErrUsage.
func HealthURL(url, addr string, live bool) (string, error) {
	path := "/readyz"
	if live {
		path = "/healthz"
	}
	if url != "" {
		u, err := neturl.Parse(url)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("--url %q: want http://HOST:PORT[/PATH]: %w", url, ErrUsage)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = path // --url http://127.0.0.1:9090 means its /readyz
		}
		return u.String(), nil
	}
	if addr == "" {
		return "", fmt.Errorf("no address: give --url, --metrics (LDAPD_METRICS) or --config with a metrics key: %w", ErrUsage)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics address %q: %v: %w", addr, err, ErrUsage)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// Healthcheck GETs url and returns the body's text (its first 4KiB) when
// the answer is 200 OK; another status is an error with the body's text.
// A url that makes no request wraps ErrUsage.
func Healthcheck(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("%v: %w", err, ErrUsage)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: %w", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	msg := strings.TrimSpace(string(body))
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s: %s", url, res.Status, msg)
	}
	return msg, nil
}
