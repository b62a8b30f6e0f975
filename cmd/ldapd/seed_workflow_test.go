package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/gateway"
	"github.com/ldapd/ldapd/internal/stacktest"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

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
