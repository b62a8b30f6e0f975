package main

// The seed's workflow (../shared/seed/service-accounts.txt, docs/design.md section 2),
// end to end: the real CLI (run, with LDAPD_URL, LDAPD_CA and LDAPD_PASSWORD
// as a shell would set them) against the whole server on loopback, and
// OpenLDAP's ldapwhoami, ldapsearch, ldapmodify and ldapdelete over LDAPS.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

const (
	base          = stacktest.Base
	demoUserDN    = "uid=demo_user,ou=people," + base
	demoServiceDN = "uid=demo_service,ou=services," + base
	demoGroupDN   = "cn=demo_group,ou=groups," + base
	demoMail      = "demo_user@example.org"
	whoamiService = "u: demo_service@idm.example.com"
)

// demo is a running server plus the passwords of the accounts the CLI
// authenticates as (--name).
type demo struct {
	*stacktest.Stack
	pw map[string]string
}

func newDemo(t *testing.T) *demo {
	t.Helper()
	s := stacktest.New(t)
	return &demo{Stack: s, pw: map[string]string{"admin": s.AdminPW, "idm_admin": s.IDMAdminPW}}
}

// ldapd runs `ldapd ARGS...` as a shell would, with LDAPD_URL and LDAPD_CA
// pointing at the stack and LDAPD_PASSWORD the password of the --name
// account.
func (d *demo) ldapd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return d.ldapdEnv(t, nil, args...)
}

func (d *demo) ldapdEnv(t *testing.T, extra map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	name := ""
	for i, a := range args {
		if a == "--name" && i+1 < len(args) {
			name = args[i+1]
		}
	}
	vars := map[string]string{"LDAPD_URL": d.LDAPSURL, "LDAPD_CA": d.CAFile, "LDAPD_PASSWORD": d.pw[name]}
	maps.Copy(vars, extra)
	e, out, errOut := clientTestEnv(vars, false)
	code = run(context.Background(), e, args)
	return out.String(), errOut.String(), code
}

// must runs the CLI and fails the test unless it exits 0; it returns stdout.
func (d *demo) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := d.ldapd(t, args...)
	if code != 0 {
		t.Fatalf("ldapd %s: exit %d\nstdout: %s\nstderr: %s", quoteAll(args), code, out, errOut)
	}
	return out
}

// refused runs the CLI, expects it to fail with exit status code and an
// error on stderr containing want, and nothing on stdout.
func (d *demo) refused(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	out, errOut, got := d.ldapd(t, args...)
	if got != code || !strings.Contains(errOut, want) || out != "" {
		t.Errorf("ldapd %s: exit %d (want %d)\nstdout: %q\nstderr: %q\nwant stderr to contain %q", quoteAll(args), got, code, out, errOut, want)
	}
}

// createPerson creates a person with a password, as idm_admin, with the CLI.
func (d *demo) createPerson(t *testing.T, name, display string) {
	t.Helper()
	out := d.must(t, "person", "create", name, display, "--name", "idm_admin")
	if want := fmt.Sprintf("created person %s (uid=%s,ou=people,%s)\n", name, name, base); out != want {
		t.Errorf("person create: %q, want %q", out, want)
	}
	pw := rand.Text()
	if out, errOut, code := d.ldapdEnv(t, map[string]string{"LDAPD_NEW_PASSWORD": pw}, "person", "set-password", name, "--name", "idm_admin"); code != 0 {
		t.Fatalf("person set-password: exit %d: %s %s", code, out, errOut)
	}
	d.pw[name] = pw
}

// tool runs one of OpenLDAP's clients against the LDAPS URL with -x.
func (d *demo) tool(t *testing.T, stdin, name string, args ...string) (string, int) {
	t.Helper()
	return d.Tool(t, stdin, name, append([]string{"-H", d.URL(), "-x"}, args...)...)
}

// whoami runs ldapwhoami -H ldaps://localhost:PORT -x -D DN -w PASSWORD.
func (d *demo) whoami(t *testing.T, dn, pw string) (string, int) {
	t.Helper()
	return d.tool(t, "", "ldapwhoami", "-D", dn, "-w", pw)
}

// tokenWhoami checks that a bind with the token works and prints the
// seed's answer.
func (d *demo) tokenWhoami(t *testing.T, token string) {
	t.Helper()
	out, code := d.whoami(t, "dn=token", token)
	if code != 0 || out != whoamiService+"\n" {
		t.Errorf("ldapwhoami -D dn=token: exit %d, output %q, want %q", code, out, whoamiService+"\n")
	}
}

// tokenRefused checks that a bind with the token answers
// invalidCredentials (ldapwhoami exits 49) and returns its output.
func (d *demo) tokenRefused(t *testing.T, token string) string {
	t.Helper()
	out, code := d.whoami(t, "dn=token", token)
	if code != 49 || !strings.Contains(out, "Invalid credentials (49)") {
		t.Errorf("ldapwhoami with a dead token: exit %d (want 49), output %q", code, out)
	}
	return out
}

// modify runs ldapmodify bound as dn with pw on the LDIF and returns the
// exit status (the LDAP result code).
func (d *demo) modify(t *testing.T, dn, pw, ldif string) (string, int) {
	t.Helper()
	return d.tool(t, ldif, "ldapmodify", "-D", dn, "-w", pw)
}

var tokenIDInNotice = regexp.MustCompile(`\(token id ([0-9a-f-]{36})\)`)

// generate runs `ldapd service-account api-token generate --name AS ARGS...`
// and checks the seed's contract: the token alone on one line of stdout, at
// most 128 characters, the notice on stderr. It returns the token and its
// id (from the notice).
func (d *demo) generate(t *testing.T, as string, args ...string) (token, id string) {
	t.Helper()
	out, errOut, code := d.ldapd(t, append([]string{"service-account", "api-token", "generate", "--name", as}, args...)...)
	if code != 0 {
		t.Fatalf("generate %q: exit %d: %s", args, code, errOut)
	}
	// TOKEN=$(ldapd ...): command substitution strips the final newline.
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("generate: stdout is not one line: %q", out)
	}
	token = strings.TrimSuffix(out, "\n")
	if token == "" || len(token) > 128 || strings.ContainsAny(token, " \t\r") {
		t.Fatalf("generate: token %q (%d characters), want 1 to 128 without blanks", token, len(token))
	}
	if strings.Contains(errOut, token) {
		t.Errorf("generate: the token is on stderr too")
	}
	if !strings.Contains(errOut, "shown once") {
		t.Errorf("generate: no shown-once notice on stderr: %q", errOut)
	}
	m := tokenIDInNotice.FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("generate: no token id in the notice %q", errOut)
	}
	return token, m[1]
}

// tokenConn returns a go-ldap connection bound with the token, checked
// with WhoAmI.
func (d *demo) tokenConn(t *testing.T, token string) *ldap.Conn {
	t.Helper()
	c := d.Dial(t)
	if err := c.Bind("dn=token", token); err != nil {
		t.Fatalf("bind with token: %v", err)
	}
	res, err := c.WhoAmI(nil)
	if err != nil || res.AuthzID != whoamiService {
		t.Fatalf("whoami on the token connection: %+v, %v", res, err)
	}
	return c
}

// deadConn checks that a connection bound with a token that has since
// been revoked or has expired gets invalidCredentials (49) or
// insufficientAccessRights (50) on its next operations.
func deadConn(t *testing.T, c *ldap.Conn) {
	t.Helper()
	_, err := c.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(uid=demo_user)", []string{"uid"}, nil))
	if code := stacktest.ResultCode(err); code != 49 && code != 50 {
		t.Errorf("search on the already-bound connection: %v (code %d), want 49 or 50", err, code)
	}
	_, err = c.WhoAmI(nil)
	if code := stacktest.ResultCode(err); code != 49 && code != 50 {
		t.Errorf("whoami on the already-bound connection: %v (code %d), want 49 or 50", err, code)
	}
	err = c.Modify(&ldap.ModifyRequest{DN: demoUserDN, Changes: []ldap.Change{{Operation: ldap.ReplaceAttribute,
		Modification: ldap.PartialAttribute{Type: "description", Vals: []string{"x"}}}}})
	if code := stacktest.ResultCode(err); code != 49 && code != 50 {
		t.Errorf("modify on the already-bound connection: %v (code %d), want 49 or 50", err, code)
	}
}

// searchMail runs the seed's ldapsearch with the token and returns its
// output.
func (d *demo) searchMail(t *testing.T, token string) string {
	t.Helper()
	out, code := d.tool(t, "", "ldapsearch", "-D", "dn=token", "-w", token, "-b", base, "(uid=demo_user)", "mail")
	if code != 0 {
		t.Fatalf("ldapsearch: exit %d: %s", code, out)
	}
	if !strings.Contains(out, "\ndn: "+demoUserDN+"\n") || !strings.Contains(out, "# numEntries: 1\n") {
		t.Errorf("ldapsearch did not find demo_user:\n%s", out)
	}
	return out
}

// tokenJSONOut is a token of `api-token status -o json`.
type tokenJSONOut struct {
	TokenID    string  `json:"token_id"`
	Label      string  `json:"label"`
	Purpose    string  `json:"purpose"`
	IssuedAt   string  `json:"issued_at"`
	Expiry     *string `json:"expiry"`
	IssuedBy   string  `json:"issued_by"`
	IssuedByDN string  `json:"issued_by_dn"`
}

func (d *demo) statusJSON(t *testing.T, as string) map[string]tokenJSONOut {
	t.Helper()
	out := d.must(t, "service-account", "api-token", "status", "--name", as, "demo_service", "-o", "json")
	var list []tokenJSONOut
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, out)
	}
	m := map[string]tokenJSONOut{}
	for _, tk := range list {
		m[tk.TokenID] = tk
	}
	if len(m) != len(list) {
		t.Errorf("status -o json lists a token twice: %s", out)
	}
	return m
}

// statusText parses `api-token status` text output into blocks of
// key -> value, by token id.
func (d *demo) statusText(t *testing.T, as string) map[string]map[string]string {
	t.Helper()
	out := d.must(t, "service-account", "api-token", "status", "--name", as, "demo_service")
	m := map[string]map[string]string{}
	for _, block := range strings.Split(strings.TrimSuffix(out, "\n"), "\n\n") {
		if block == "" {
			continue
		}
		kv := map[string]string{}
		var keys []string
		for _, line := range strings.Split(block, "\n") {
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("status: line %q is not key: value\n%s", line, out)
			}
			kv[k] = v
			keys = append(keys, k)
		}
		if got := strings.Join(keys, ","); got != "token_id,label,purpose,issued_at,expiry,issued_by" {
			t.Errorf("status block keys %s\n%s", got, out)
		}
		m[kv["token_id"]] = kv
	}
	return m
}

// noTokenInLogs checks that the server log never holds a token, nor its
// signature.
func noTokenInLogs(t *testing.T, d *demo, tokens ...string) {
	t.Helper()
	logs := d.Logs()
	if logs == "" {
		t.Fatal("the server logged nothing")
	}
	for _, tk := range tokens {
		parts := strings.Split(tk, ".")
		if strings.Contains(logs, tk) || (len(parts) == 3 && len(parts[2]) > 8 && strings.Contains(logs, parts[2])) {
			t.Errorf("the server log contains the token %s...", tk[:10])
		}
	}
}

// logHas reports whether one line of the server log contains every part.
func logHas(d *demo, parts ...string) bool {
	for _, line := range strings.Split(d.Logs(), "\n") {
		ok := true
		for _, p := range parts {
			if !strings.Contains(line, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// seedSetup is the setting the seed assumes, made with the CLI as
// idm_admin: group demo_group, person demo_user (with a password and a
// mail address) in demo_group, person other_user in no group, and the
// service account demo_service managed by demo_group.
func seedSetup(t *testing.T) *demo {
	t.Helper()
	d := newDemo(t)
	d.must(t, "group", "create", "demo_group", "--name", "idm_admin")
	d.createPerson(t, "demo_user", "Demonstration User")
	d.createPerson(t, "other_user", "Other User")
	d.must(t, "group", "add-members", "demo_group", "demo_user", "--name", "idm_admin")
	d.must(t, "service-account", "create", "demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin")
	return d
}

// TestSeedWorkflow runs the seed's commands in the seed's order, as
// written (with ldapd for kanidm), and checks what each one shows.
func TestSeedWorkflow(t *testing.T) {
	d := newDemo(t)
	var token, tokenID, rwToken, rwTokenID string

	t.Run("setup: idm_admin creates demo_group and demo_user", func(t *testing.T) {
		out := d.must(t, "group", "create", "demo_group", "--name", "idm_admin")
		if out != "created group demo_group ("+demoGroupDN+")\n" {
			t.Errorf("group create: %q", out)
		}
		d.createPerson(t, "demo_user", "Demonstration User")
		d.must(t, "group", "add-members", "demo_group", "demo_user", "--name", "idm_admin")
		if out := d.must(t, "group", "list-members", "demo_group", "--name", "idm_admin"); out != "demo_user\n" {
			t.Errorf("list-members: %q", out)
		}
		// A personal attribute for the "extended search permissions".
		if out, code := d.modify(t, "idm_admin", d.IDMAdminPW, "dn: "+demoUserDN+"\nchangetype: modify\nadd: mail\nmail: "+demoMail+"\n"); code != 0 {
			t.Fatalf("add mail: %d %s", code, out)
		}
	})

	t.Run("service-account create (flags after the arguments)", func(t *testing.T) {
		// kanidm service-account create demo_service "Demonstration Service" demo_group --name idm_admin
		out := d.must(t, "service-account", "create", "demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin")
		if want := "created service account demo_service (" + demoServiceDN + ")\n"; out != want {
			t.Errorf("create: %q, want %q", out, want)
		}
	})

	t.Run("service-account get", func(t *testing.T) {
		// kanidm service-account get demo_service --name idm_admin
		out := d.must(t, "service-account", "get", "demo_service", "--name", "idm_admin")
		for _, want := range []string{
			"dn: " + demoServiceDN + "\n",
			"\ndisplayName: Demonstration Service\n",
			"\nentryManagedBy: " + demoGroupDN + "\n",
			"\nspn: demo_service@idm.example.com\n",
			"\nuid: demo_service\n",
			"\nentryUUID: ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("get lacks %q:\n%s", want, out)
			}
		}
		var e struct {
			DN         string              `json:"dn"`
			Attributes map[string][]string `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(d.must(t, "service-account", "get", "demo_service", "--name", "idm_admin", "-o", "json")), &e); err != nil {
			t.Fatal(err)
		}
		if e.DN != demoServiceDN || fmt.Sprint(e.Attributes["entryManagedBy"]) != "["+demoGroupDN+"]" {
			t.Errorf("get -o json: %+v", e)
		}
		// "By delegating the administration of this service account to
		// demo_group this allows our demo_user to administer the service
		// account": demo_user reads and updates it.
		if out := d.must(t, "service-account", "get", "demo_service", "--name", "demo_user"); !strings.Contains(out, "dn: "+demoServiceDN) {
			t.Errorf("get as demo_user:\n%s", out)
		}
		d.must(t, "service-account", "update", "demo_service", "--displayname", "Demonstration Service", "--name", "demo_user")
	})

	t.Run("api-token status: no tokens yet (flags before the arguments)", func(t *testing.T) {
		// kanidm service-account api-token status --name demo_user demo_service
		out, errOut, code := d.ldapd(t, "service-account", "api-token", "status", "--name", "demo_user", "demo_service")
		if code != 0 || out != "" || errOut != "service account demo_service has no API tokens\n" {
			t.Errorf("status: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		if out := d.must(t, "service-account", "api-token", "status", "--name", "demo_user", "demo_service", "-o", "json"); out != "[]\n" {
			t.Errorf("status -o json: %q", out)
		}
	})

	t.Run("api-token generate: TOKEN=$(...)", func(t *testing.T) {
		// kanidm service-account api-token generate --name demo_user demo_service "Test Token"
		token, tokenID = d.generate(t, "demo_user", "demo_service", "Test Token")
	})

	t.Run("ldapwhoami -D dn=token", func(t *testing.T) {
		// ldapwhoami -H ldaps://URL -x -D "dn=token" -w "TOKEN"
		// # u: demo_service@idm.example.com
		d.tokenWhoami(t, token)
		for _, dn := range []string{"DN=Token", "DN=TOKEN", ""} {
			out, code := d.whoami(t, dn, token)
			if code != 0 || out != whoamiService+"\n" {
				t.Errorf("ldapwhoami -D %q: exit %d, %q", dn, code, out)
			}
		}
	})

	t.Run("ldapsearch without extended rights: no mail", func(t *testing.T) {
		out := d.searchMail(t, token)
		if strings.Contains(out, "mail:") {
			t.Errorf("mail returned without idm_people_pii_read:\n%s", out)
		}
		// Anonymous does not read it either.
		anon, code := d.tool(t, "", "ldapsearch", "-b", base, "(uid=demo_user)", "mail")
		if code != 0 || strings.Contains(anon, "mail:") {
			t.Errorf("anonymous ldapsearch: %d\n%s", code, anon)
		}
	})

	t.Run("ldapsearch with extended rights: mail", func(t *testing.T) {
		// "API tokens can also be used to gain extended search permissions
		// with LDAP": membership of idm_people_pii_read, given by idm_admin.
		d.must(t, "group", "add-members", "idm_people_pii_read", "demo_service", "--name", "idm_admin")
		out := d.searchMail(t, token)
		if !strings.Contains(out, "\nmail: "+demoMail+"\n") {
			t.Errorf("mail not returned to a token of a member of idm_people_pii_read:\n%s", out)
		}
	})

	t.Run("read-only token: every write answers 50", func(t *testing.T) {
		// Even once the account may write people (idm_people_admins, which
		// only system_admins may change: it is high-privilege).
		d.must(t, "group", "add-members", "idm_people_admins", "demo_service", "--name", "admin")
		for name, ldif := range map[string]string{
			"modify a person":          "dn: " + demoUserDN + "\nchangetype: modify\nreplace: description\ndescription: ro\n",
			"modify its own account":   "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: description\ndescription: ro\n",
			"modify a group":           "dn: " + demoGroupDN + "\nchangetype: modify\nreplace: description\ndescription: ro\n",
			"add a person":             "dn: uid=ro_person,ou=people," + base + "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: ro_person\ncn: ro\nsn: ro\n",
			"delete a person":          "dn: " + demoUserDN + "\nchangetype: delete\n",
			"change its own password":  "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: userPassword\nuserPassword: x\n",
			"rename a person (modrdn)": "dn: " + demoUserDN + "\nchangetype: modrdn\nnewrdn: uid=renamed\ndeleteoldrdn: 1\n",
		} {
			if out, code := d.modify(t, "dn=token", token, ldif); code != 50 {
				t.Errorf("%s with a read-only token: exit %d (want 50)\n%s", name, code, out)
			}
		}
		// Generating another token with it is a write too.
		c := d.tokenConn(t, token)
		_, err := c.Extended(generateTokenRequest(wire.GenerateToken{Account: demoServiceDN, Label: "x"}))
		if code := stacktest.ResultCode(err); code != 50 {
			t.Errorf("generate with a read-only token: %v", err)
		}
	})

	t.Run("--rw token with an expiry may write what its groups allow", func(t *testing.T) {
		// kanidm service-account api-token generate --name demo_user demo_service "Test Token" 2030-09-25T11:22:02+10:00 --rw
		rwToken, rwTokenID = d.generate(t, "demo_user", "demo_service", "Test Token", "2030-09-25T11:22:02+10:00", "--rw")
		d.tokenWhoami(t, rwToken)
		ldif := "dn: " + demoUserDN + "\nchangetype: modify\nreplace: description\ndescription: written with a token\n"
		if out, code := d.modify(t, "dn=token", rwToken, ldif); code != 0 {
			t.Fatalf("modify a person with a --rw token of a member of idm_people_admins: exit %d\n%s", code, out)
		}
		res, err := d.Admin(t).Search(ldap.NewSearchRequest(demoUserDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"description", "modifiersName"}, nil))
		if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("description") != "written with a token" ||
			!strings.EqualFold(res.Entries[0].GetAttributeValue("modifiersName"), demoServiceDN) {
			t.Errorf("after the write: %v %+v", err, res)
		}
		// Not what its groups do not allow: groups need idm_group_admins.
		if out, code := d.modify(t, "dn=token", rwToken, "dn: "+demoGroupDN+"\nchangetype: modify\nreplace: description\ndescription: rw\n"); code != 50 {
			t.Errorf("modify a group with a --rw token of a non-group-admin: exit %d\n%s", code, out)
		}
		// The seed's other form: --rw without expiry.
		// kanidm service-account api-token generate --name demo_user demo_service "Test Token" --rw
		tk, _ := d.generate(t, "demo_user", "demo_service", "Test Token", "--rw")
		if out, code := d.modify(t, "dn=token", tk, "dn: "+demoUserDN+"\nchangetype: modify\nreplace: description\ndescription: rw again\n"); code != 0 {
			t.Errorf("modify with a --rw token without expiry: exit %d\n%s", code, out)
		}
	})

	t.Run("api-token status lists every token", func(t *testing.T) {
		// kanidm service-account api-token status --name ENTRY_MANAGER ACCOUNT_ID
		text := d.statusText(t, "demo_user")
		js := d.statusJSON(t, "demo_user")
		if len(text) != 3 || len(js) != 3 {
			t.Fatalf("status lists %d tokens in text and %d in JSON, want 3", len(text), len(js))
		}
		ro, rw := text[tokenID], text[rwTokenID]
		if ro == nil || rw == nil {
			t.Fatalf("status does not list %s and %s: %v", tokenID, rwTokenID, text)
		}
		if ro["label"] != "Test Token" || ro["purpose"] != "read-only" || ro["expiry"] != "never" || ro["issued_by"] != "demo_user" {
			t.Errorf("read-only token: %v", ro)
		}
		if rw["label"] != "Test Token" || rw["purpose"] != "read-write" || rw["issued_by"] != "demo_user" {
			t.Errorf("read-write token: %v", rw)
		}
		if exp, err := time.Parse(time.RFC3339, rw["expiry"]); err != nil || !exp.Equal(time.Date(2030, 9, 25, 1, 22, 2, 0, time.UTC)) {
			t.Errorf("read-write token expiry %q (%v), want 2030-09-25T11:22:02+10:00", rw["expiry"], err)
		}
		for id, kv := range text {
			at, err := time.Parse(time.RFC3339, kv["issued_at"])
			if err != nil || at.Sub(d.Clock.Now()).Abs() > time.Minute {
				t.Errorf("token %s issued_at %q, want about %s", id, kv["issued_at"], d.Clock.Now())
			}
		}
		jro, jrw := js[tokenID], js[rwTokenID]
		if jro.Label != "Test Token" || jro.Purpose != "read-only" || jro.Expiry != nil || jro.IssuedBy != "demo_user" ||
			!strings.EqualFold(jro.IssuedByDN, demoUserDN) || jro.IssuedAt != ro["issued_at"] {
			t.Errorf("read-only token in JSON: %+v", jro)
		}
		if jrw.Purpose != "read-write" || jrw.Expiry == nil || *jrw.Expiry != rw["expiry"] || jrw.IssuedBy != "demo_user" {
			t.Errorf("read-write token in JSON: %+v", jrw)
		}
		// idm_admin (idm_service_account_admins) sees them too.
		if len(d.statusJSON(t, "idm_admin")) != 3 {
			t.Error("idm_admin does not see the token records")
		}
	})

	t.Run("api-token destroy: the next bind and an already-bound connection fail", func(t *testing.T) {
		bound := d.tokenConn(t, token)
		// kanidm service-account api-token destroy --name ENTRY_MANAGER ACCOUNT_ID TOKEN_ID
		out := d.must(t, "service-account", "api-token", "destroy", "--name", "demo_user", "demo_service", tokenID)
		if want := "destroyed API token " + tokenID + " of service account demo_service\n"; out != want {
			t.Errorf("destroy: %q, want %q", out, want)
		}
		d.tokenRefused(t, token)
		deadConn(t, bound)
		if _, ok := d.statusJSON(t, "demo_user")[tokenID]; ok {
			t.Error("status still lists the destroyed token")
		}
		d.tokenWhoami(t, rwToken) // the others still work
		if !logHas(d, `"cause":"revoked"`, tokenID) {
			t.Errorf("the log does not say that token %s was refused as revoked", tokenID)
		}
		// Destroying it again says it is gone.
		d.refused(t, 1, "service account demo_service has no API token "+tokenID,
			"service-account", "api-token", "destroy", "--name", "demo_user", "demo_service", tokenID)
	})

	t.Run("ldapdelete of a token record revokes it", func(t *testing.T) {
		tk, id := d.generate(t, "demo_user", "demo_service", "ldapdelete me")
		bound := d.tokenConn(t, tk)
		dn := "ldapdTokenId=" + id + "," + demoServiceDN
		if out, code := d.tool(t, "", "ldapdelete", "-D", "demo_user", "-w", d.pw["demo_user"], dn); code != 0 {
			t.Fatalf("ldapdelete %s: exit %d\n%s", dn, code, out)
		}
		d.tokenRefused(t, tk)
		deadConn(t, bound)
	})

	t.Run("a failed token bind says the same whatever the cause", func(t *testing.T) {
		revoked := d.tokenRefused(t, token)
		garbage := d.tokenRefused(t, "garbage")
		flipped := d.tokenRefused(t, flipSignature(rwToken))
		if revoked != garbage || garbage != flipped {
			t.Errorf("different answers:\n%q\n%q\n%q", revoked, garbage, flipped)
		}
	})

	t.Run("the server log never contains a token", func(t *testing.T) {
		noTokenInLogs(t, d, token, rwToken)
	})
}

// generateTokenRequest is ldapd's generate-token extended request with g
// sent as is, bypassing the CLI's checks.
func generateTokenRequest(g wire.GenerateToken) *ldap.ExtendedRequest {
	return ldap.NewExtendedRequest(gateway.GenerateTokenOID, ber.DecodePacket(wire.AppendGenerateToken(nil, g)))
}

// flipSignature changes one character of the token's signature.
func flipSignature(tk string) string {
	b := []byte(tk)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// TestSeedTokenExpiry: "service accounts can have expiry times"; a token
// whose expiry has passed no longer binds, nor serves a connection bound
// before; an expiry in the past, or malformed, is refused.
func TestSeedTokenExpiry(t *testing.T) {
	d := seedSetup(t)

	t.Run("a token stops working after its expiry", func(t *testing.T) {
		expiry := time.Now().Add(time.Hour).Truncate(time.Second)
		tk, id := d.generate(t, "demo_user", "demo_service", "Test Token", expiry.Format(time.RFC3339))
		kv := d.statusText(t, "demo_user")[id]
		if got, err := time.Parse(time.RFC3339, kv["expiry"]); err != nil || !got.Equal(expiry) {
			t.Errorf("status expiry %q, want %s", kv["expiry"], expiry.Format(time.RFC3339))
		}
		d.tokenWhoami(t, tk)
		bound := d.tokenConn(t, tk)

		d.Clock.Advance(2 * time.Hour)

		d.tokenRefused(t, tk)
		deadConn(t, bound)
		if !logHas(d, `"cause":"expired"`, id) {
			t.Errorf("the log does not say that token %s was refused as expired", id)
		}
		noTokenInLogs(t, d, tk)
	})

	t.Run("an expiry in the past is refused", func(t *testing.T) {
		// kanidm service-account api-token generate --name demo_user demo_service "Test Token" 2020-09-25T11:22:02+10:00
		for _, rw := range [][]string{nil, {"--rw"}} {
			args := append([]string{"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", "2020-09-25T11:22:02+10:00"}, rw...)
			d.refused(t, 1, "ldapd service-account: expiry 2020-09-25T11:22:02+10:00 is in the past", args...)
		}
	})

	t.Run("a malformed expiry is refused", func(t *testing.T) {
		for _, exp := range []string{"2020-09-25", "2030-09-25T11:22:02", "2030-09-25 11:22:02+10:00", "tomorrow", "2030-13-01T00:00:00Z"} {
			d.refused(t, 2, fmt.Sprintf("expiry %q is not an RFC 3339 time", exp),
				"service-account", "api-token", "generate", "--name", "demo_user", "demo_service", "Test Token", exp)
		}
	})

	t.Run("the server checks the expiry with its own clock", func(t *testing.T) {
		records := len(d.statusJSON(t, "demo_user"))
		// A client whose clock is behind cannot get a token that the
		// server's clock says has already expired.
		c, err := admin.Dial(context.Background(), admin.Config{URL: d.LDAPSURL, CAFile: d.CAFile,
			Now: func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Bind(context.Background(), "demo_user", d.pw["demo_user"]); err != nil {
			t.Fatal(err)
		}
		_, err = c.GenerateToken(context.Background(), "demo_service", admin.TokenRequest{Label: "Test Token", Expiry: "2020-09-25T11:22:02+10:00"})
		if err == nil || !strings.Contains(err.Error(), "is in the past") {
			t.Errorf("server accepted an expiry in the past: %v", err)
		}
		// A malformed expiry sent as is.
		raw := d.Bind(t, "demo_user", d.pw["demo_user"])
		_, err = raw.Extended(generateTokenRequest(
			wire.GenerateToken{Account: demoServiceDN, Label: "Test Token", Expiry: "2030-09-25", HasExpiry: true}))
		if code := stacktest.ResultCode(err); code != ldap.LDAPResultUnwillingToPerform || !strings.Contains(err.Error(), "not an RFC 3339 time") {
			t.Errorf("server answer to a malformed expiry: %v", err)
		}
		if n := len(d.statusJSON(t, "demo_user")); n != records {
			t.Errorf("refused requests left records: %d tokens, want %d", n, records)
		}
	})
}

// TestSeedDelegation: "Members of idm_service_account_admins have the
// privileges to create new service accounts. By default idm_admin has this
// access." and "By delegating the administration of this service account
// to demo_group this allows our demo_user to administer the service
// account."
func TestSeedDelegation(t *testing.T) {
	d := seedSetup(t)
	_, id := d.generate(t, "demo_user", "demo_service", "Test Token")
	const reason = "other_user may not manage demo_service: not a member of demo_group"

	t.Run("a non-member of the managing group may not manage its tokens", func(t *testing.T) {
		d.refused(t, 1, reason, "service-account", "api-token", "status", "--name", "other_user", "demo_service")
		d.refused(t, 1, reason, "service-account", "api-token", "status", "--name", "other_user", "demo_service", "-o", "json")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token", "--rw")
		d.refused(t, 1, reason, "service-account", "api-token", "destroy", "--name", "other_user", "demo_service", id)
		d.refused(t, 1, reason, "service-account", "update", "demo_service", "--displayname", "Mine", "--name", "other_user")
		if _, ok := d.statusJSON(t, "demo_user")[id]; !ok || len(d.statusJSON(t, "demo_user")) != 1 {
			t.Error("the refused commands changed the tokens")
		}
	})

	t.Run("joining the managing group grants it", func(t *testing.T) {
		d.must(t, "group", "add-members", "demo_group", "other_user", "--name", "idm_admin")
		d.must(t, "service-account", "api-token", "status", "--name", "other_user", "demo_service")
		tk, _ := d.generate(t, "other_user", "demo_service", "Other Token")
		d.tokenWhoami(t, tk)
		d.must(t, "group", "remove-members", "demo_group", "other_user", "--name", "idm_admin")
		d.refused(t, 1, reason, "service-account", "api-token", "generate", "--name", "other_user", "demo_service", "Test Token")
	})

	t.Run("only idm_service_account_admins create and delete service accounts", func(t *testing.T) {
		d.refused(t, 1, "demo_user may not add service accounts: not a member of idm_service_account_admins",
			"service-account", "create", "demo_service2", "Another Service", "demo_group", "--name", "demo_user")
		d.refused(t, 1, "demo_user may not delete service accounts: not a member of idm_service_account_admins",
			"service-account", "delete", "demo_service", "--name", "demo_user")
		d.must(t, "service-account", "create", "demo_service2", "Another Service", "demo_group", "--name", "idm_admin")
		d.must(t, "service-account", "delete", "demo_service2", "--name", "idm_admin")
	})

	t.Run("creation requires an existing manager", func(t *testing.T) {
		out, errOut, code := d.ldapd(t, "service-account", "create", "demo_service3", "Another Service", "no_such_group", "--name", "idm_admin")
		if code == 0 || out != "" || !strings.Contains(errOut, "no_such_group") {
			t.Errorf("create with a missing manager: exit %d, %q %q", code, out, errOut)
		}
		// An account may be the manager.
		d.must(t, "service-account", "create", "solo_service", "Solo Service", "demo_user", "--name", "idm_admin")
		d.generate(t, "demo_user", "solo_service", "Solo Token")
	})
}

// TestSeedEntryManagedBy: "The entry_managed_by attribute of a service
// account may be created and modified by members of
// idm_service_account_admins." and "NOTE: If a service account is a member
// of idm_high_privilege its entry_managed_by may only be modified by
// members of idm_access_control_admins".
func TestSeedEntryManagedBy(t *testing.T) {
	d := seedSetup(t)
	d.must(t, "group", "create", "other_group", "--name", "idm_admin")
	otherGroupDN := "cn=other_group,ou=groups," + base
	managedBy := func(t *testing.T) string {
		t.Helper()
		var e struct {
			Attributes map[string][]string `json:"attributes"`
		}
		if err := json.Unmarshal([]byte(d.must(t, "service-account", "get", "demo_service", "--name", "idm_admin", "-o", "json")), &e); err != nil {
			t.Fatal(err)
		}
		return strings.Join(e.Attributes["entryManagedBy"], ";")
	}
	setLDIF := func(dn string) string {
		return "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: entryManagedBy\nentryManagedBy: " + dn + "\n"
	}

	t.Run("idm_service_account_admins change it", func(t *testing.T) {
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "idm_admin")
		if got := managedBy(t); !strings.EqualFold(got, otherGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "demo_group", "--name", "idm_admin")
	})

	t.Run("its managers do not", func(t *testing.T) {
		d.refused(t, 1, "demo_user may not change entryManagedBy of demo_service: not a member of idm_service_account_admins",
			"service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "demo_user")
	})

	t.Run("high privilege: idm_service_account_admins no longer may", func(t *testing.T) {
		d.must(t, "group", "add-members", "idm_high_privilege", "demo_service", "--name", "admin")
		d.refused(t, 1, "demo_service is a member of idm_high_privilege: only idm_access_control_admins may change its entryManagedBy",
			"service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "idm_admin")
		if out, code := d.modify(t, "idm_admin", d.IDMAdminPW, setLDIF(otherGroupDN)); code != 50 {
			t.Errorf("ldapmodify entryManagedBy as idm_admin: exit %d (want 50)\n%s", code, out)
		}
		if got := managedBy(t); !strings.EqualFold(got, demoGroupDN) {
			t.Errorf("entryManagedBy changed to %q", got)
		}
	})

	t.Run("high privilege: idm_access_control_admins may", func(t *testing.T) {
		// admin: system_admins, a member of idm_access_control_admins.
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "other_group", "--name", "admin")
		if got := managedBy(t); !strings.EqualFold(got, otherGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		// A member of idm_access_control_admins who is not a system admin.
		d.createPerson(t, "acl_user", "Access Control Admin")
		d.must(t, "group", "add-members", "idm_access_control_admins", "acl_user", "--name", "admin")
		d.must(t, "service-account", "update", "demo_service", "--entry-managed-by", "demo_group", "--name", "acl_user")
		if got := managedBy(t); !strings.EqualFold(got, demoGroupDN) {
			t.Errorf("entryManagedBy %q", got)
		}
		if out, code := d.modify(t, "acl_user", d.pw["acl_user"], setLDIF(otherGroupDN)); code != 0 {
			t.Errorf("ldapmodify entryManagedBy as acl_user: exit %d\n%s", code, out)
		}
	})
}

// TestSeedDeleteServiceAccount: deleting a service account revokes all its
// tokens, and a new account of the same name does not revive them.
func TestSeedDeleteServiceAccount(t *testing.T) {
	d := seedSetup(t)
	ro, _ := d.generate(t, "demo_user", "demo_service", "Test Token")
	rw, _ := d.generate(t, "demo_user", "demo_service", "Test Token", "--rw")
	bound := d.tokenConn(t, ro)

	out := d.must(t, "service-account", "delete", "demo_service", "--name", "idm_admin")
	if out != "deleted service account demo_service\n" {
		t.Errorf("delete: %q", out)
	}
	d.tokenRefused(t, ro)
	d.tokenRefused(t, rw)
	deadConn(t, bound)

	d.must(t, "service-account", "create", "demo_service", "Demonstration Service", "demo_group", "--name", "idm_admin")
	d.tokenRefused(t, ro)
	d.tokenRefused(t, rw)
	deadConn(t, bound) // the connection does not become the new account's
	out, errOut, code := d.ldapd(t, "service-account", "api-token", "status", "--name", "demo_user", "demo_service")
	if code != 0 || out != "" || !strings.Contains(errOut, "no API tokens") {
		t.Errorf("status of the new account: %d %q %q", code, out, errOut)
	}
	noTokenInLogs(t, d, ro, rw)
}

// TestSeedDisabledServiceAccount: the tokens of a disabled service account
// stop working, at bind and on connections already bound, and work again
// once it is enabled.
func TestSeedDisabledServiceAccount(t *testing.T) {
	d := seedSetup(t)
	tk, _ := d.generate(t, "demo_user", "demo_service", "Test Token")
	bound := d.tokenConn(t, tk)
	set := func(v string) {
		t.Helper()
		ldif := "dn: " + demoServiceDN + "\nchangetype: modify\nreplace: ldapdAccountDisabled\nldapdAccountDisabled: " + v + "\n"
		if out, code := d.modify(t, "idm_admin", d.IDMAdminPW, ldif); code != 0 {
			t.Fatalf("set ldapdAccountDisabled %s: exit %d\n%s", v, code, out)
		}
	}
	set("TRUE")
	d.tokenRefused(t, tk)
	deadConn(t, bound)
	set("FALSE")
	d.tokenWhoami(t, tk)
	noTokenInLogs(t, d, tk)
}
