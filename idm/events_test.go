package idm

import "testing"

// TestEventCauses pins the mapping from the causes bind failures log to
// the causes Events (and so the metrics) report.
func TestEventCauses(t *testing.T) {
	for logged, want := range map[string]string{
		"wrong password": CauseBadPassword,
		"account has no password (set one with ldapd recover-account)": CauseBadPassword,
		"no such account":                       CauseNoAccount,
		"account disabled":                      CauseDisabled,
		"empty password (unauthenticated bind)": CauseUnauthenticated,
		"throttled after repeated failures (acct locked until 10:00:00)": CauseThrottled,
		"stored password unreadable":                                     "",
	} {
		if got := passwordCause(logged); got != want {
			t.Errorf("passwordCause(%q) = %q, want %q", logged, got, want)
		}
	}
	for logged, want := range map[string]string{
		"revoked": CauseRevoked, "expired": CauseExpired, "malformed": CauseBadToken,
		"bad signature": CauseBadToken, "unknown signing key": CauseBadToken, "account disabled": CauseDisabled,
	} {
		if got := tokenCause(logged); got != want {
			t.Errorf("tokenCause(%q) = %q, want %q", logged, got, want)
		}
	}
}

type recordedEvents struct{ causes []string }

func (r *recordedEvents) BindFailed(c string) { r.causes = append(r.causes, c) }
func (r *recordedEvents) TokenIssued()        {}
func (r *recordedEvents) TokenRevoked()       {}

func TestBindFailedNilEvents(t *testing.T) {
	(&Service{}).bindFailed(CauseBadPassword) // no Events: nothing happens
	r := &recordedEvents{}
	s := &Service{cfg: Config{Events: r}}
	s.bindFailed("")
	s.bindFailed(CauseThrottled)
	if len(r.causes) != 1 || r.causes[0] != CauseThrottled {
		t.Errorf("causes = %v", r.causes)
	}
}
