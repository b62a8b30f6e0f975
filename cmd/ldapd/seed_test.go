package main

// The seed's workflow (docs/design.md section 2), end to end: this file is
// the harness; seed_workflow_test.go, seed_expiry_test.go and
// seed_delegation_test.go the workflows. The real CLI (run, with LDAPD_URL, LDAPD_CA and LDAPD_PASSWORD
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

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/internal/cli"
	"github.com/ldapd/ldapd/internal/stacktest"
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
		t.Fatalf("ldapd %s: exit %d\nstdout: %s\nstderr: %s", cli.QuoteArgs(args), code, out, errOut)
	}
	return out
}

// refused runs the CLI, expects it to fail with exit status code and an
// error on stderr containing want, and nothing on stdout.
func (d *demo) refused(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	out, errOut, got := d.ldapd(t, args...)
	if got != code || !strings.Contains(errOut, want) || out != "" {
		t.Errorf("ldapd %s: exit %d (want %d)\nstdout: %q\nstderr: %q\nwant stderr to contain %q", cli.QuoteArgs(args), got, code, out, errOut, want)
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
