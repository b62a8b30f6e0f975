package idm

import (
	"context"
	"strings"

	"github.com/rs/zerolog"
)

// Events is told of security-relevant outcomes, for metrics. Its methods
// are called from request goroutines, concurrently, and must be quick and
// safe for concurrent use. idm knows nothing of how they are recorded.
type Events interface {
	// BindFailed is called once per failed bind with one of the Cause*
	// constants.
	BindFailed(cause string)
	// TokenIssued is called after an API token's record is committed.
	TokenIssued()
	// TokenRevoked is called once per API token record deleted.
	TokenRevoked()
}

// Causes of a failed bind, as passed to Events.BindFailed and logged as
// the "cause" field of the failure's security event: one vocabulary for
// the ldapd_bind_failures_total{cause} series and the logs. The event's
// "detail" field says more ("wrong password", "bad signature", the
// throttle's reason, ...).
const (
	CauseBadPassword     = "bad_password"    // wrong password, or the account has none
	CauseNoAccount       = "no_account"      // the bind name matches no unique account
	CauseDisabled        = "disabled"        // the account is disabled (password or token bind)
	CauseUnauthenticated = "unauthenticated" // a name without a password (RFC 4513 5.1.2)
	CauseBadToken        = "bad_token"       // malformed, bad signature, unknown key, account gone
	CauseRevoked         = "revoked"         // the token's record is gone
	CauseExpired         = "expired"         // the token is past its expiry
	CauseThrottled       = "throttled"       // refused by the failed-bind throttle
)

// bindFailed reports a failed bind to Config.Events, if set.
func (s *Service) bindFailed(cause string) {
	if s.cfg.Events != nil && cause != "" {
		s.cfg.Events.BindFailed(cause)
	}
}

func (s *Service) tokenIssued() {
	if s.cfg.Events != nil {
		s.cfg.Events.TokenIssued()
	}
}

func (s *Service) tokenRevoked() {
	if s.cfg.Events != nil {
		s.cfg.Events.TokenRevoked()
	}
}

// passwordCause maps the cause a password-bind failure logs to its
// Events cause; "" for a line that is not itself a failure (an unreadable
// stored hash is logged, then the bind goes on).
func passwordCause(logged string) string {
	switch {
	case strings.HasPrefix(logged, "throttled"):
		return CauseThrottled
	case strings.HasPrefix(logged, "wrong password"), strings.HasPrefix(logged, "account has no password"):
		return CauseBadPassword
	case strings.HasPrefix(logged, "no such account"):
		return CauseNoAccount
	case strings.HasPrefix(logged, "account disabled"):
		return CauseDisabled
	case strings.HasPrefix(logged, "empty password"):
		return CauseUnauthenticated
	}
	return ""
}

// tokenCause maps the cause a token-bind failure logs to its Events cause.
func tokenCause(logged string) string {
	switch logged {
	case "revoked":
		return CauseRevoked
	case "expired":
		return CauseExpired
	case "account disabled":
		return CauseDisabled
	}
	return CauseBadToken
}

type connKey struct{}

// WithConn returns ctx carrying the id of the LDAP connection a request
// came on (ldapserver.Request.ConnID): security events log it as "conn",
// like every access line of that connection, so that one query finds
// everything a connection did, its failed binds included.
func WithConn(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, connKey{}, id)
}

// HasConn reports whether ctx carries a connection id (WithConn).
func HasConn(ctx context.Context) bool {
	_, ok := ctx.Value(connKey{}).(uint64)
	return ok
}

// secEvent marks ev as a security event and adds the connection id when
// ctx carries one (WithConn).
func secEvent(ctx context.Context, ev *zerolog.Event) *zerolog.Event {
	ev = ev.Str("event", "security")
	if id, ok := ctx.Value(connKey{}).(uint64); ok {
		ev = ev.Uint64("conn", id)
	}
	return ev
}
