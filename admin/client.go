package admin

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/ldapd/ldapd/ldapserver/wire"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// DefaultURL is the server a Config with an empty URL connects to.
const DefaultURL = "ldaps://localhost:3636"

// DefaultTimeout bounds connecting and each operation when Config.Timeout
// is zero.
const DefaultTimeout = 30 * time.Second

// startTLSOID is the StartTLS extended operation (RFC 4511 section 4.14).
const startTLSOID = wire.StartTLSOID

// Config says how to reach the server. The zero value connects to
// DefaultURL and trusts the system's root certificates.
type Config struct {
	// URL is ldaps://HOST[:PORT] (default port 636), or ldap://HOST[:PORT]
	// (default port 389), on which StartTLS is done before anything else.
	// Empty means DefaultURL.
	URL string
	// CAFile is a PEM file of CA certificates trusted instead of the
	// system roots. Empty means the system roots.
	CAFile string
	// RootCAs, if not nil, is trusted instead of CAFile and the system
	// roots.
	RootCAs *x509.CertPool
	// Timeout bounds connecting and each LDAP operation; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Now is the clock used to refuse expiries in the past; nil means
	// time.Now.
	Now func() time.Time
}

// Client is an LDAP connection to an ldapd server, with the base DN read
// from its root DSE. Create one with Dial; Close it when done. A Client is
// not safe for concurrent use.
type Client struct {
	conn       *ldap.Conn
	url        string
	base       directory.DN
	domain     string
	extensions []string
	now        func() time.Time
	bound      string // the name given to Bind, for messages
}

// Dial connects to the server, secures the connection with TLS (LDAPS, or
// StartTLS on an ldap:// URL) and reads the root DSE anonymously to learn
// the base DN (the first value of namingContexts). The context bounds the
// dial only; each method takes its own.
//
// Connection failures are *Error values matching ErrUnreachable;
// certificate failures match ErrUntrusted and wrap the x509 error.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	ep, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := cfg.tlsConfig(ep.host)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", ep.addr)
	if err != nil {
		return nil, &Error{Msg: fmt.Sprintf("cannot reach the server at %s: %s", ep.url, netCause(err)), Err: err, kind: ErrUnreachable}
	}
	if !ep.ldaps {
		if err := startTLS(dctx, raw); err != nil {
			raw.Close()
			return nil, explainStartTLS(err, ep.url)
		}
	}
	tc := tls.Client(raw, tlsCfg)
	if err := tc.HandshakeContext(dctx); err != nil {
		raw.Close()
		return nil, explainTLS(err, ep.url, ep.host)
	}
	conn := ldap.NewConn(tc, true)
	conn.Start()
	conn.SetTimeout(timeout)

	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	c := &Client{conn: conn, url: ep.url, now: now}
	if err := c.readRootDSE(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// BaseDN returns the directory's base DN (the server's first naming
// context), e.g. dc=idm,dc=example,dc=com.
func (c *Client) BaseDN() string { return c.base.String() }

// Domain returns the domain derived from the base DN (idm.example.com for
// dc=idm,dc=example,dc=com), or "" if the base DN is not made of dc=
// components.
func (c *Client) Domain() string { return c.domain }

// URL returns the server URL the client is connected to.
func (c *Client) URL() string { return c.url }

// Bind authenticates with a simple bind as name: a bare name (idm_admin),
// an spn or a DN. A wrong name or password is an *Error matching
// ErrAuthFailed.
func (c *Client) Bind(ctx context.Context, name, password string) error {
	if name == "" {
		return &Error{Msg: "no account name to authenticate as"}
	}
	if password == "" {
		return &Error{Msg: fmt.Sprintf("empty password for %s", name)}
	}
	err := c.do(ctx, func() error { return c.conn.Bind(name, password) })
	if err == nil {
		c.bound = name
		return nil
	}
	if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return &Error{Msg: fmt.Sprintf("authentication as %s failed: wrong name or password", name), Err: err, kind: ErrAuthFailed}
	}
	return c.fail(ctx, err, op{action: "authenticate as " + name})
}

// do runs one LDAP call, closing the connection if ctx ends first. It
// returns the call's error unexplained.
func (c *Client) do(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	defer stop()
	return f()
}

// fail explains err, the failure of operation o.
func (c *Client) fail(ctx context.Context, err error, o op) error {
	if err == nil {
		return nil
	}
	if ce := ctxErr(ctx, err, o); ce != nil {
		return ce
	}
	return explain(err, o, c.bound)
}

// search runs a search and explains a failure as operation o.
func (c *Client) search(ctx context.Context, req *ldap.SearchRequest, o op) ([]*ldap.Entry, error) {
	var res *ldap.SearchResult
	err := c.do(ctx, func() error {
		var err error
		res, err = c.conn.Search(req)
		return err
	})
	if err != nil {
		return nil, c.fail(ctx, err, o)
	}
	return res.Entries, nil
}

func (c *Client) readRootDSE(ctx context.Context) error {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"namingContexts", "supportedExtension"}, nil)
	entries, err := c.search(ctx, req, op{action: "read the root DSE of " + c.url})
	if err != nil {
		return err
	}
	if len(entries) == 0 || len(entries[0].GetAttributeValues("namingContexts")) == 0 {
		return &Error{Msg: fmt.Sprintf("the server at %s publishes no namingContexts in its root DSE: is it an ldapd server?", c.url)}
	}
	first := entries[0].GetAttributeValues("namingContexts")[0]
	base, err := directory.ParseDN(first)
	if err != nil {
		return &Error{Msg: fmt.Sprintf("the server at %s publishes an invalid naming context %q", c.url, first), Err: err}
	}
	c.base = base
	c.domain = domainOf(base)
	c.extensions = entries[0].GetAttributeValues("supportedExtension")
	return nil
}

// endpoint is a parsed server URL.
type endpoint struct {
	url   string // as given, for messages
	host  string // for certificate verification
	addr  string // host:port to dial
	ldaps bool
}

func parseURL(raw string) (endpoint, error) {
	if raw == "" {
		raw = DefaultURL
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return endpoint{}, &Error{Msg: fmt.Sprintf("invalid server URL %q: want ldaps://HOST[:PORT] or ldap://HOST[:PORT]", raw), Err: err}
	}
	if (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "" {
		return endpoint{}, &Error{Msg: fmt.Sprintf("invalid server URL %q: want ldaps://HOST[:PORT] or ldap://HOST[:PORT], without path or query", raw)}
	}
	ep := endpoint{url: raw, host: u.Hostname()}
	port := u.Port()
	switch strings.ToLower(u.Scheme) {
	case "ldaps":
		ep.ldaps = true
		if port == "" {
			port = "636"
		}
	case "ldap":
		if port == "" {
			port = "389"
		}
	default:
		return endpoint{}, &Error{Msg: fmt.Sprintf("invalid server URL %q: the scheme must be ldaps:// or ldap:// (with StartTLS)", raw)}
	}
	ep.addr = net.JoinHostPort(ep.host, port)
	return ep, nil
}

func (cfg Config) tlsConfig(host string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	switch {
	case cfg.RootCAs != nil:
		tc.RootCAs = cfg.RootCAs
	case cfg.CAFile != "":
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, &Error{Msg: fmt.Sprintf("cannot read the CA certificate file: %v", err), Err: err}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{Msg: fmt.Sprintf("no PEM certificate in the CA file %s", cfg.CAFile)}
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// startTLS sends the StartTLS extended request on a fresh connection and
// waits for its success, before go-ldap takes the connection over. Doing it
// here rather than with ldap.Conn.StartTLS keeps the handshake's error
// (go-ldap flattens it to text) so that certificate problems can be told
// apart, and lets the context bound it.
func startTLS(ctx context.Context, raw net.Conn) error {
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
		defer raw.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := raw.Write(startTLSRequest().Bytes()); err != nil {
		return ldap.NewError(ldap.ErrorNetwork, err)
	}
	resp, err := ber.ReadPacket(raw)
	if err != nil {
		return ldap.NewError(ldap.ErrorNetwork, err)
	}
	if len(resp.Children) < 2 || resp.Children[1].ClassType != ber.ClassApplication ||
		resp.Children[1].Tag != ldap.ApplicationExtendedResponse {
		return ldap.NewError(ldap.ErrorUnexpectedResponse, errors.New("the answer to StartTLS is not an extended response"))
	}
	return ldap.GetLDAPError(resp)
}

func startTLSRequest() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAPMessage")
	p.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), "messageID"))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "StartTLS")
	req.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, startTLSOID, "requestName"))
	p.AppendChild(req)
	return p
}

func explainStartTLS(err error, u string) error {
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork && le.ResultCode != ldap.ErrorUnexpectedResponse {
		return &Error{Msg: fmt.Sprintf("the server at %s refused StartTLS: %s", u, withDiag(codeName(le.ResultCode), le.Err.Error())), Err: err}
	}
	return &Error{Msg: fmt.Sprintf("StartTLS with the server at %s failed: %v (is it an LDAP port? use ldaps:// for an LDAPS port)", u, errors.Unwrap(err)), Err: err}
}

// explainTLS classifies a failed TLS handshake.
func explainTLS(err error, u, host string) error {
	var (
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recHdErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return &Error{Msg: fmt.Sprintf("the server at %s presented a certificate signed by an unknown authority", u), Err: err, kind: ErrUntrusted}
	case errors.As(err, &hostErr):
		return &Error{Msg: fmt.Sprintf("the certificate of the server at %s is not valid for %s: %v", u, host, &hostErr), Err: err, kind: ErrUntrusted}
	case errors.As(err, &invalid):
		return &Error{Msg: fmt.Sprintf("the certificate of the server at %s is invalid: %v", u, &invalid), Err: err, kind: ErrUntrusted}
	case errors.As(err, &recHdErr):
		return &Error{Msg: fmt.Sprintf("the server at %s does not speak TLS (is it a plain LDAP port? use ldap:// for StartTLS)", u), Err: err}
	}
	return &Error{Msg: fmt.Sprintf("TLS handshake with the server at %s failed: %v", u, err), Err: err}
}

// netCause is the short reason of a dial error: "connection refused".
func netCause(err error) string {
	var sys *os.SyscallError
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return dns.Error()
	case errors.As(err, &sys):
		return sys.Err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return err.Error()
}
