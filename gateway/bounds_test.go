package gateway_test

// Resource bounds over real sockets: the work a password may cause
// (password.MaxLen, MaxParams, MaxCryptRounds), the log a client string
// may cause (internal/logfield), and control types.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/idm"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/password"
)

// Values of the password "secret" in the schemes OpenLDAP stores (glibc
// crypt(3), slappasswd).
const (
	sha512CryptSecret = "{CRYPT}$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	md5CryptSecret    = "{CRYPT}$1$saltsalt$9xy1btjgzLYfb7hivXtC//"
	sshaSecret        = "{SSHA}1G904nLkTkGWjKNnQuB/hpWXC/hzYWx0c2FsdA==" // sha1("secret"+"saltsalt")+"saltsalt"
)

// addImported adds person uid=name with userPassword stored as given, as
// ldapd import and the root socket do.
func addImported(t testing.TB, s *stacktest.Stack, name, stored string) string {
	t.Helper()
	dn := personDN(name)
	e := directory.NewEntry(directory.MustParseDN(dn))
	e.Add("objectClass", "inetOrgPerson")
	e.Add("uid", name)
	e.Add("cn", name)
	e.Add("sn", name)
	e.Add("userPassword", stored)
	if err := s.IDM.Add(context.Background(), idm.RootIdentity(), e); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	return dn
}

// bindRequest encodes a simple bind request with message ID id.
func bindRequest(id byte, name, pw string) []byte {
	body := append([]byte{0x02, 0x01, 0x03}, berHeader(0x04, len(name))...)
	body = append(body, name...)
	body = append(append(body, berHeader(0x80, len(pw))...), pw...)
	msg := append([]byte{0x02, 0x01, id}, berHeader(0x60, len(body))...)
	msg = append(msg, body...)
	return append(berHeader(0x30, len(msg)), msg...)
}

// timedBind binds over a new LDAPS connection and returns the result code
// and how long the server took from the request's first byte to the
// answer. The request is encoded beforehand, so the client's own work
// (slow under -race for a megabyte) is not counted.
func timedBind(t testing.TB, s *stacktest.Stack, dn, pw string) (int64, time.Duration) {
	t.Helper()
	req := bindRequest(1, dn, pw)
	c := dialRaw(t, s, true)
	defer c.Close()
	start := time.Now()
	c.send(req)
	r, err := c.next()
	d := time.Since(start)
	if err != nil || r.id != 1 || r.tag != ldap.ApplicationBindResponse {
		t.Fatalf("bind answered %+v, %v", r, err)
	}
	return r.code, d
}

// TestLongPasswordCostsNothing: a 30 KB or 1 MB password against an
// account stored in any scheme is answered invalidCredentials at once.
// Before password.MaxLen, $6$ verification was quadratic in the password
// (1 MB: about 30 minutes of CPU holding one of the four hash slots).
func TestLongPasswordCostsNothing(t *testing.T) {
	s := stacktest.New(t)
	argon, err := password.NewHasher(password.DefaultParams(), nil, 1).Hash(context.Background(), "secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, acct := range []struct{ name, stored string }{
		{"sha512crypt", sha512CryptSecret}, {"md5crypt", md5CryptSecret}, {"ssha", sshaSecret}, {"argon2id", argon},
	} {
		t.Run(acct.name, func(t *testing.T) {
			dn := addImported(t, s, acct.name, acct.stored)
			for _, n := range []int{30 << 10, 1 << 20} {
				code, d := timedBind(t, s, dn, strings.Repeat("p", n))
				if code != ldap.LDAPResultInvalidCredentials {
					t.Errorf("a %d-byte password: result code %d, want 49", n, code)
				}
				// Reading and decrypting 1 MB takes milliseconds; what
				// this guards against took minutes of CPU.
				if d > 10*time.Second {
					t.Errorf("a %d-byte password took %v to refuse", n, d)
				}
				t.Logf("a %d-byte password refused in %v", n, d)
			}
			// The stored value is readable: the right password binds.
			if code, _ := timedBind(t, s, dn, "secret"); code != 0 {
				t.Errorf("the right password: result code %d", code)
			}
		})
	}
}

// TestLongPasswordsDoNotStarveBinds: while four clients bind with 1 MB
// passwords, and then while four bind with MaxLen-byte passwords against
// the costliest {CRYPT} value allowed (rounds=MaxCryptRounds), a correct
// admin bind is answered within a second, or eight times one such
// verification alone when that is longer (a slow -race build). (Four 150
// KB binds against one $6$ account used to make it wait 69 s.)
func TestLongPasswordsDoNotStarveBinds(t *testing.T) {
	s := stacktest.New(t)
	// A $6$ value at the rounds cap; any hash bits will do, since only
	// wrong passwords are tried against it.
	costly := "{CRYPT}$6$rounds=20000$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
	if err := password.CheckParams(costly, password.DefaultParams()); err != nil {
		t.Fatalf("the test's value is outside the bounds: %v", err)
	}
	for _, phase := range []struct {
		name, prefix, stored string
		pwLen                int
	}{
		{"1 MB passwords against $6$", "long", sha512CryptSecret, 1 << 20},
		{"MaxLen passwords against $6$ rounds=MaxCryptRounds", "atmax", costly, password.MaxLen},
	} {
		t.Run(phase.name, func(t *testing.T) {
			// The throttle would refuse the hammering binds before any
			// hashing; start each phase with it forgetting all failures,
			// and keep every account under its free failures.
			s.Clock.Advance(time.Hour)
			const clients, binds = 4, 4
			var wg sync.WaitGroup
			started := make(chan struct{}, clients)
			stop := make(chan struct{})
			for i := range clients {
				dn := addImported(t, s, phase.prefix+string(rune('a'+i)), phase.stored)
				c := dialRaw(t, s, true)
				pw := strings.Repeat("p", phase.pwLen)
				reqs := make([][]byte, binds)
				for k := range reqs {
					reqs[k] = bindRequest(byte(k+1), dn, pw)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k, req := range reqs {
						if k == 1 {
							started <- struct{}{} // the first bind is answered, the second is going
						}
						select {
						case <-stop:
							return
						default:
						}
						if _, err := c.Write(req); err != nil {
							t.Errorf("hammering bind: %v", err)
							return
						}
						p, err := ber.ReadPacket(c)
						if err != nil || len(p.Children) < 2 || len(p.Children[1].Children) < 1 {
							t.Errorf("hammering bind: %v", err)
							return
						}
						if code, _ := p.Children[1].Children[0].Value.(int64); code != ldap.LDAPResultInvalidCredentials {
							t.Errorf("hammering bind answered %d, want 49", code)
							return
						}
					}
				}()
			}
			for range clients {
				<-started
			}
			code, d := timedBind(t, s, "admin", s.AdminPW)
			close(stop)
			wg.Wait()
			if code != 0 {
				t.Errorf("admin bind: result code %d", code)
			}
			// The admin bind waits for a hash slot: at most for one of
			// the hammering verifications, slowed by the others sharing
			// the cores. Relative to one verification alone (a -race
			// build on a loaded machine is several times slower), and
			// never under a second; a queue behind every hammering bind
			// (the 69 s this guards against) is far beyond it.
			one := time.Now()
			_ = password.NewHasher(password.DefaultParams(), nil, 1).Verify(context.Background(), phase.stored, strings.Repeat("p", phase.pwLen))
			bound := max(time.Second, 8*time.Since(one))
			if d > bound {
				t.Errorf("admin bind took %v while long-password binds ran (bound %v)", d, bound)
			}
			t.Logf("admin bind answered in %v (bound %v)", d, bound)
		})
	}
}

// TestTooLongNewPassword: a new password over password.MaxLen is refused
// with constraintViolation on every path that sets one, and the old
// password keeps working; one of exactly MaxLen bytes is accepted.
func TestTooLongNewPassword(t *testing.T) {
	s, admin := stackAsIDMAdmin(t)
	long := strings.Repeat("L", password.MaxLen+1)
	atMax := strings.Repeat("M", password.MaxLen)

	err := admin.Add(&ldap.AddRequest{DN: personDN("bob"), Attributes: attrs("objectClass", "inetOrgPerson", "uid", "bob", "cn", "b", "sn", "b", "userPassword", long)})
	wantCode(t, "add with a too-long password", err, ldap.LDAPResultConstraintViolation)
	if exists(t, admin, personDN("bob")) {
		t.Fatal("the add with a too-long password created the entry")
	}

	alice := addPerson(t, admin, "alice", "userPassword", atMax)
	if code, _ := timedBind(t, s, alice, atMax); code != 0 {
		t.Fatalf("bind with a MaxLen-byte password: result code %d", code)
	}
	wantCode(t, "modify to a too-long password", modify(admin, alice, ldap.ReplaceAttribute, "userPassword", long),
		ldap.LDAPResultConstraintViolation)
	self := s.Bind(t, alice, atMax)
	_, err = self.PasswordModify(ldap.NewPasswordModifyRequest("", atMax, long))
	wantCode(t, "password modify to a too-long password", err, ldap.LDAPResultConstraintViolation)
	if le := ldapErr(t, err); !strings.Contains(le.Err.Error(), "longer than 1024 bytes") {
		t.Errorf("message %q does not say why", le.Err)
	}
	if code, _ := timedBind(t, s, alice, atMax); code != 0 {
		t.Fatalf("the old password stopped working: result code %d", code)
	}
}

// TestHugeClientStringsBarelyGrowTheLog: bind names, DNs and attribute
// names of megabytes (of control bytes, which the JSON log escapes sixfold)
// reach the log clipped to logfield.Max bytes: each request grows the log
// by a few KB at most. Five 3.9 MB bind names once wrote 327 MB.
func TestHugeClientStringsBarelyGrowTheLog(t *testing.T) {
	s := stacktest.New(t)
	const perRequest = 8 << 10
	huge := strings.Repeat("\x01", 4<<20-2048)
	check := func(t *testing.T, what string, c *ldap.Conn, do func() error, want uint16) {
		t.Helper()
		before := len(s.Logs())
		wantCode(t, what, do(), want)
		// The access line is written after the answer; the next answer
		// proves it is out.
		if _, err := c.WhoAmI(nil); err != nil {
			t.Fatal(err)
		}
		if grew := len(s.Logs()) - before; grew > perRequest {
			t.Errorf("%s grew the log by %d bytes, want at most %d", what, grew, perRequest)
		}
	}
	t.Run("bind names", func(t *testing.T) {
		c := s.Dial(t)
		defer c.Close()
		for _, name := range []string{"uid=" + huge, huge, huge + "@" + stacktest.Domain} {
			check(t, "bind", c, func() error { return c.Bind(name, "x") }, ldap.LDAPResultInvalidCredentials)
		}
		// A throttled bind logs the name too.
		s.Clock.Advance(time.Hour)
		for range 6 {
			check(t, "bind to a locked account", c, func() error { return c.Bind("uid="+huge, "x") }, ldap.LDAPResultInvalidCredentials)
		}
	})
	t.Run("DNs and attribute names", func(t *testing.T) {
		c := s.IDMAdmin(t)
		defer c.Close()
		long := "cn=" + strings.Repeat(`\01`, 5000) + "," + people // valid, under the 16 KB DN bound
		for _, dn := range []string{"cn=" + huge + "," + people, long} {
			check(t, "search", c, func() error {
				_, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, nil))
				return err
			}, map[bool]uint16{true: ldap.LDAPResultInvalidDNSyntax, false: ldap.LDAPResultNoSuchObject}[len(dn) > 16<<10])
			check(t, "add", c, func() error {
				return c.Add(&ldap.AddRequest{DN: dn, Attributes: attrs("objectClass", "inetOrgPerson", "cn", "x", "sn", "x")})
			}, map[bool]uint16{true: ldap.LDAPResultInvalidDNSyntax, false: ldap.LDAPResultNamingViolation}[len(dn) > 16<<10])
		}
		check(t, "search with a huge attribute name", c, func() error {
			_, err := c.Search(ldap.NewSearchRequest(people, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
				"(objectClass=*)", []string{huge}, nil))
			return err
		}, 0)
		check(t, "add with a huge attribute name", c, func() error {
			return c.Add(&ldap.AddRequest{DN: personDN("x"), Attributes: attrs("objectClass", "inetOrgPerson", huge, "x")})
		}, ldap.LDAPResultUndefinedAttributeType)
		check(t, "add with a huge attribute name and no values", c, func() error {
			return c.Add(&ldap.AddRequest{DN: personDN("x"), Attributes: []ldap.Attribute{{Type: huge}}})
		}, ldap.LDAPResultProtocolError)
	})
}

// TestEmptyControlType: a control whose type is empty or not a numeric
// OID makes the request a protocolError, critical or not, and the
// operation has no effect. An empty critical type was once ignored.
func TestEmptyControlType(t *testing.T) {
	_, c := stackAsIDMAdmin(t)
	alice := addPerson(t, c, "alice", "description", "before")
	for _, oid := range []string{"", "pagedResults", "1.2.840.113556.1.4.319 "} {
		for _, critical := range []bool{true, false} {
			ctl := []ldap.Control{ldap.NewControlString(oid, critical, "")}
			_, err := c.Search(ldap.NewSearchRequest(alice, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", nil, ctl))
			wantCode(t, "search with control type "+oid, err, ldap.LDAPResultProtocolError)
			req := ldap.NewModifyRequest(alice, ctl)
			req.Replace("description", []string{"after"})
			wantCode(t, "modify with control type "+oid, c.Modify(req), ldap.LDAPResultProtocolError)
		}
	}
	mustEqual(t, "description", values(read(t, c, alice, "description"), "description"), []string{"before"})
}
