package gateway_test

// Password Modify is no password oracle (outside review, finding A): over
// plain LDAP it is refused like a password bind (13); whether the caller
// may change the target's password is decided before the old password is
// looked at; a forbidden change and a wrong old password get the same
// answer, word for word; and the old password goes through the bind
// throttle, so a refused pair is answered before any hash.

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/stacktest"
)

// passwd runs ldappasswd and returns its output with the exit status
// appended, so that two runs can be compared whole.
func passwd(t *testing.T, s *stacktest.Stack, args ...string) string {
	t.Helper()
	out, code := s.Tool(t, "", "ldappasswd", args...)
	return strings.TrimSpace(out) + "\nexit " + strconv.Itoa(code)
}

func TestPasswordModifyNeedsTLS(t *testing.T) {
	s := stacktest.New(t)
	plain := []string{"-H", s.PlainURL(), "-x"}
	// The review's exact command, with a wrong and with the right guess.
	for _, guess := range []string{"wrong-guess", s.AdminPW} {
		out, code := s.Tool(t, "", "ldappasswd", with(plain, "-a", guess, "-s", "x", "admin")...)
		// ldappasswd exits 1 on any failure and prints the result code.
		if code != 1 || !strings.Contains(out, "Confidentiality required (13)") {
			t.Fatalf("ldappasswd over ldap:// without StartTLS: exit %d\n%s\nwant result 13 (confidentiality required)", code, out)
		}
	}
	// Bound on the same plain connection is impossible, but an anonymous
	// go-ldap client can send the request: same answer, nothing changed.
	c := s.DialPlain(t)
	_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("admin", s.AdminPW, "x"))
	wantCode(t, "password modify over plain LDAP", err, ldap.LDAPResultConfidentialityRequired)
	if msg := ldapErr(t, err).Err.Error(); !strings.Contains(msg, "passwords are only accepted over TLS: use ldaps:// or StartTLS") {
		t.Errorf("password modify over plain LDAP: message %q", msg)
	}
	if !canBind(t, s, "admin", s.AdminPW) || canBind(t, s, "admin", "x") {
		t.Fatal("admin's password changed")
	}
	// After StartTLS the operation is served (and refused for anonymous).
	if err := c.StartTLS(s.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	_, err = c.PasswordModify(ldap.NewPasswordModifyRequest("admin", "wrong", "x"))
	wantCode(t, "password modify after StartTLS", err, ldap.LDAPResultInsufficientAccessRights)
	out, code := s.Tool(t, "", "ldappasswd", with(plain, "-ZZ", "-a", "wrong", "-s", "x", "admin")...)
	if code != 1 || !strings.Contains(out, "(50)") {
		t.Fatalf("ldappasswd -ZZ: exit %d\n%s\nwant result 50", code, out)
	}
}

func TestPasswordModifyNoOracle(t *testing.T) {
	s := stacktest.New(t)
	alice := addPerson(t, s.IDMAdmin(t), "alice", "userPassword", "alice-pw-0")

	t.Run("ldappasswd anonymous: wrong and right old password answer alike", func(t *testing.T) {
		wrong := passwd(t, s, with(anonArgs(s), "-a", "wrong-guess", "-s", "x", "admin")...)
		right := passwd(t, s, with(anonArgs(s), "-a", s.AdminPW, "-s", "x", "admin")...)
		if wrong != right {
			t.Fatalf("anonymous ldappasswd answers differ:\nwrong guess: %s\nright guess: %s", wrong, right)
		}
		wantResult(t, right, ldap.LDAPResultInsufficientAccessRights)
	})
	t.Run("ldappasswd as alice against admin: wrong and right alike", func(t *testing.T) {
		args := bindArgs(s, "alice", "alice-pw-0")
		wrong := passwd(t, s, with(args, "-a", "wrong-guess", "-s", "x", personDN("admin"))...)
		right := passwd(t, s, with(args, "-a", s.AdminPW, "-s", "x", personDN("admin"))...)
		if wrong != right {
			t.Fatalf("answers differ:\nwrong guess: %s\nright guess: %s", wrong, right)
		}
	})
	t.Run("forbidden change and wrong old password: one answer", func(t *testing.T) {
		// alice may change her own password, so her wrong old password is
		// checked; she may not change admin's, so nothing is checked.
		self := passwd(t, s, with(bindArgs(s, "alice", "alice-pw-0"), "-a", "wrong-guess", "-s", "alice-pw-1")...)
		forbidden := passwd(t, s, with(bindArgs(s, "alice", "alice-pw-0"), "-a", "wrong-guess", "-s", "x", personDN("admin"))...)
		if self != forbidden {
			t.Fatalf("answers differ:\nwrong old password: %s\nforbidden change: %s", self, forbidden)
		}
		c := s.Bind(t, "alice", "alice-pw-0")
		_, e1 := c.PasswordModify(ldap.NewPasswordModifyRequest("", "wrong-guess", "alice-pw-1"))
		_, e2 := c.PasswordModify(ldap.NewPasswordModifyRequest(personDN("admin"), s.AdminPW, "x"))
		_, e3 := s.Dial(t).PasswordModify(ldap.NewPasswordModifyRequest("admin", s.AdminPW, "x"))
		l1, l2, l3 := ldapErr(t, e1), ldapErr(t, e2), ldapErr(t, e3)
		if l1.ResultCode != ldap.LDAPResultInsufficientAccessRights || l1.Error() != l2.Error() || l2.Error() != l3.Error() {
			t.Fatalf("go-ldap answers differ or are not 50:\nwrong old: %v\nforbidden (alice): %v\nforbidden (anonymous): %v", l1, l2, l3)
		}
	})
	// Nothing above changed anything.
	wantPassword(t, s, "admin", s.AdminPW, "x")
	wantPassword(t, s, "alice", "alice-pw-0", "alice-pw-1")

	t.Run("the old password goes through the bind throttle", func(t *testing.T) {
		s.Clock.Advance(16 * time.Minute) // the failures above are forgotten
		c := s.Bind(t, alice, "alice-pw-0")
		// Failures from this address against alice, by bind and by
		// Password Modify, count together: 3 + 3 passes the 5 free ones.
		for range 3 {
			wantCode(t, "wrong bind", s.Dial(t).Bind("alice", "wrong"), ldap.LDAPResultInvalidCredentials)
		}
		for range 3 {
			_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("", "wrong", "alice-pw-1"))
			wantCode(t, "wrong old password", err, ldap.LDAPResultInsufficientAccessRights)
		}
		// The pair is refused now: the right old password is refused
		// without being checked, and so is a bind with the right one.
		before := strings.Count(s.Logs(), "throttled after repeated failures")
		_, err := c.PasswordModify(ldap.NewPasswordModifyRequest("", "alice-pw-0", "alice-pw-1"))
		wantCode(t, "right old password while throttled", err, ldap.LDAPResultInsufficientAccessRights)
		wantCode(t, "right password bind while throttled", s.Dial(t).Bind("alice", "alice-pw-0"), ldap.LDAPResultInvalidCredentials)
		if after := strings.Count(s.Logs(), "throttled after repeated failures"); after != before+2 {
			t.Fatalf("%d throttle refusals logged, want 2", after-before)
		}
		// Once the refusal lifts the right old password works.
		s.Clock.Advance(2 * time.Second)
		_, err = c.PasswordModify(ldap.NewPasswordModifyRequest("", "alice-pw-0", "alice-pw-1"))
		wantCode(t, "right old password after the refusal", err, 0)
		wantPassword(t, s, "alice", "alice-pw-1", "alice-pw-0")
	})
}
