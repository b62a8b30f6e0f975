package stacktest_test

// Secrets never reach the log (issue #5): a full scenario with passwords,
// generated passwords, password changes, tokens and failed binds of every
// kind, then the captured server log is searched for each secret.

import (
	"context"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/internal/stacktest"
)

func TestNoSecretsInLogs(t *testing.T) {
	s := stacktest.New(t)
	ctx := context.Background()
	secrets := map[string]string{"admin password": s.AdminPW, "idm_admin password": s.IDMAdminPW}
	base := stacktest.Base

	a := s.Admin(t)
	const alicePW = "Alice-Initial-Pa55word!"
	secrets["alice's initial password (plaintext in an Add)"] = alicePW
	add := ldap.NewAddRequest("uid=alice,ou=people,"+base, nil)
	add.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
	add.Attribute("uid", []string{"alice"})
	add.Attribute("cn", []string{"Alice"})
	add.Attribute("sn", []string{"Liddell"})
	add.Attribute("userPassword", []string{alicePW})
	if err := a.Add(add); err != nil {
		t.Fatalf("add alice: %v", err)
	}
	// Failed binds: wrong password, unknown account, empty-ish names.
	for i, pw := range []string{"Wrong-Guess-0001", "Wrong-Guess-0002"} {
		secrets["wrong password "+string(rune('A'+i))] = pw
		if err := s.Dial(t).Bind("alice", pw); err == nil {
			t.Fatal("a wrong password bound")
		}
	}
	secrets["password for a missing account"] = "No-Such-User-Pa55"
	_ = s.Dial(t).Bind("nosuchuser", "No-Such-User-Pa55")
	secrets["password for a DN that does not parse"] = "Bad-DN-Pa55word"
	_ = s.Dial(t).Bind("uid=,,=bad", "Bad-DN-Pa55word")
	// Password Modify with old and new password, as alice.
	const aliceNew = "Alice-Changed-Pa55word?"
	secrets["alice's new password (Password Modify)"] = aliceNew
	if _, err := s.Bind(t, "alice", alicePW).PasswordModify(ldap.NewPasswordModifyRequest("", alicePW, aliceNew)); err != nil {
		t.Fatalf("password modify: %v", err)
	}
	// A generated password.
	res, err := a.PasswordModify(ldap.NewPasswordModifyRequest("uid=alice,ou=people,"+base, "", ""))
	if err != nil || res.GeneratedPassword == "" {
		t.Fatalf("generated password: %v", err)
	}
	secrets["generated password"] = res.GeneratedPassword
	// A plaintext userPassword in a Modify.
	const aliceMod = "Alice-Modified-Pa55word#"
	secrets["alice's password set by Modify"] = aliceMod
	m := ldap.NewModifyRequest("uid=alice,ou=people,"+base, nil)
	m.Replace("userPassword", []string{aliceMod})
	if err := a.Modify(m); err != nil {
		t.Fatalf("modify userPassword: %v", err)
	}
	s.Bind(t, "alice", aliceMod)

	// Tokens: generate over LDAP, bind, bind with a damaged one, revoke.
	cl, err := admin.Dial(ctx, admin.Config{URL: s.LDAPSURL, CAFile: s.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Bind(ctx, "idm_admin", s.IDMAdminPW); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateServiceAccount(ctx, "logsvc", "Log Service", "idm_admins"); err != nil {
		t.Fatal(err)
	}
	tok, err := cl.GenerateToken(ctx, "logsvc", admin.TokenRequest{Label: "log test", ReadWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	secrets["token"] = tok.Token
	secrets["token signature"] = tok.Token[strings.LastIndexByte(tok.Token, '.')+1:]
	s.Bind(t, "dn=token", tok.Token)
	damaged := tok.Token[:len(tok.Token)-4] + "AAAA"
	secrets["damaged token"] = damaged
	if err := s.Dial(t).Bind("dn=token", damaged); err == nil {
		t.Fatal("a damaged token bound")
	}
	if err := s.Dial(t).Bind("", tok.Token+"x"); err == nil {
		t.Fatal("an extended token bound")
	}
	if err := cl.DestroyToken(ctx, "logsvc", tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Dial(t).Bind("dn=token", tok.Token); err == nil {
		t.Fatal("a revoked token bound")
	}

	logs := s.Logs()
	for _, want := range []string{"bind failed", "token bind failed", tok.ID} {
		if !strings.Contains(logs, want) {
			t.Fatalf("the captured log lacks %q: the capture is broken", want)
		}
	}
	for what, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log contains the %s", what)
		}
	}
	t.Logf("%d secrets, %d bytes of log, no hit", len(secrets), len(logs))
}
