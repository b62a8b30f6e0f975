package gateway_test

// A token's record is found by key (docs/design.md section 5): the record
// ldapdTokenId=<id> directly below the service account whose entryUUID the
// token's signed claims name, and nothing else. The token ID is not a
// secret and ldapdTokenId is a plain attribute, so the same value placed
// anywhere else (by root, by an import) must neither revoke a token nor
// keep a destroyed one alive nor change what it may do.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// adminClient is the admin CLI's client, bound as idm_admin.
func adminClient(t *testing.T, s *stacktest.Stack) *admin.Client {
	t.Helper()
	ctx := context.Background()
	c, err := admin.Dial(ctx, admin.Config{URL: s.LDAPSURL, CAFile: s.CAFile, Now: s.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(ctx, "idm_admin", s.IDMAdminPW); err != nil {
		t.Fatal(err)
	}
	return c
}

// storeWrite writes straight to the store, as root or an import could:
// no access control, no schema check.
func storeWrite(t *testing.T, s *stacktest.Stack, fn func(tx directory.WriteTx) error) {
	t.Helper()
	if err := s.Store.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// tokenWhoami runs ldapwhoami with the token and returns its exit status
// and output.
func tokenWhoami(t *testing.T, s *stacktest.Stack, token string) (int, string) {
	t.Helper()
	out, code := s.Tool(t, "", "ldapwhoami", bindArgs(s, "dn=token", token)...)
	return code, strings.TrimSpace(out)
}

// squatRecord is a well-formed read-write token record for id, named dn.
func squatRecord(dn, id string) *directory.Entry {
	e := directory.NewEntry(directory.MustParseDN(dn))
	e.Set("objectClass", "top", directory.ClassAPIToken)
	e.Set(directory.AttrTokenID, id)
	e.Set(directory.AttrTokenLabel, "squatted")
	e.Set(directory.AttrTokenPurpose, "read-write")
	e.Set(directory.AttrTokenIssuedAt, directory.FormatGeneralizedTime(time.Now()))
	return e
}

// moveLast deletes the entry at dn and adds it again, so that it is the
// newest entry of the store: a lookup that takes the first entry with a
// token id then meets every squatted copy before it.
func moveLast(tx directory.WriteTx, dn directory.DN) error {
	e, err := tx.Get(dn)
	if err != nil {
		return err
	}
	if err := tx.Delete(dn); err != nil {
		return err
	}
	return tx.Add(e)
}

func TestTokenIDSquatting(t *testing.T) {
	s := stacktest.New(t)
	ctx := context.Background()
	c := adminClient(t, s)
	victim := "uid=victim_svc," + services
	squatter := "uid=squat_svc," + services
	// The squatter's entries exist before the tokens: a lookup by the
	// ldapdTokenId index alone meets them first.
	for _, name := range []string{"squat_svc", "victim_svc"} {
		if _, err := c.CreateServiceAccount(ctx, name, name, "idm_admin"); err != nil {
			t.Fatal(err)
		}
	}
	// The victim may change people, so its token's purpose shows: a
	// read-only token's write fails, a read-write one's succeeds.
	target := addPerson(t, s.IDMAdmin(t), "target")
	addMember(t, s.Admin(t), groupDN("idm_people_admins"), victim)
	rw, err := c.GenerateToken(ctx, "victim_svc", admin.TokenRequest{Label: "control", ReadWrite: true})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "write with a read-write token", modify(s.Bind(t, "dn=token", rw.Token), target, ldap.ReplaceAttribute, "description", "rw"), 0)
	addID := func(dn string) func(tx directory.WriteTx, id string) error {
		return func(tx directory.WriteTx, id string) error {
			return tx.Modify(directory.MustParseDN(dn), []directory.Change{{Op: directory.ChangeAdd, Attr: directory.AttrTokenID, Values: []string{id}}})
		}
	}
	squats := []struct {
		name string
		// plant writes the squatted value of token id.
		plant func(tx directory.WriteTx, id string) error
	}{
		{"the id on the squatter's service account entry", addID(squatter)},
		{"the id on ou=services itself", addID(services)},
		{"the id on a person", addID(personDN("idm_admin"))},
		{"a read-write record of the id under the squatter", func(tx directory.WriteTx, id string) error {
			return tx.Add(squatRecord("ldapdTokenId="+id+","+squatter, id))
		}},
		{"a read-write record of the id directly under ou=services", func(tx directory.WriteTx, id string) error {
			return tx.Add(squatRecord("ldapdTokenId="+id+","+services, id))
		}},
		{"a read-write record of the id two levels below the victim", func(tx directory.WriteTx, id string) error {
			deep := directory.NewEntry(directory.MustParseDN("cn=" + id + "," + victim))
			deep.Set("objectClass", "top", "applicationProcess")
			deep.Set("cn", id)
			if err := tx.Add(deep); err != nil {
				return err
			}
			return tx.Add(squatRecord("ldapdTokenId="+id+","+deep.DN.String(), id))
		}},
		{"a read-write record of another id naming this one", func(tx directory.WriteTx, id string) error {
			return tx.Add(squatRecord("ldapdTokenId="+uuidLike(id)+","+victim, id))
		}},
	}
	for _, sq := range squats {
		t.Run(sq.name, func(t *testing.T) {
			tok, err := c.GenerateToken(ctx, "victim_svc", admin.TokenRequest{Label: sq.name})
			if err != nil {
				t.Fatal(err)
			}
			bound := s.Bind(t, "dn=token", tok.Token) // a session from before the squatting
			realRecord := directory.MustParseDN("ldapdTokenId=" + tok.ID + "," + victim)
			storeWrite(t, s, func(tx directory.WriteTx) error {
				if err := sq.plant(tx, tok.ID); err != nil {
					return err
				}
				return moveLast(tx, realRecord)
			})

			// The token still binds as the victim (not the squatter), the
			// session bound before still works, and the token is still
			// read-only whatever purpose a squatted record claims.
			if code, out := tokenWhoami(t, s, tok.Token); code != 0 || out != "u: victim_svc@idm.example.com" {
				t.Fatalf("ldapwhoami with the real token: exit %d, %q; want u: victim_svc@idm.example.com", code, out)
			}
			who, err := bound.WhoAmI(nil)
			if err != nil || who.AuthzID != "u: victim_svc@idm.example.com" {
				t.Fatalf("session bound before: WhoAmI = %+v, %v", who, err)
			}
			fresh := s.Bind(t, "dn=token", tok.Token)
			wantCode(t, "write with the read-only token", modify(fresh, target, ldap.ReplaceAttribute, "description", "x"), ldap.LDAPResultInsufficientAccessRights)

			// With the copy still in place, destroying the real record
			// revokes the token, for new binds and for the session.
			if err := c.DestroyToken(ctx, "victim_svc", tok.ID); err != nil {
				t.Fatal(err)
			}
			if code, out := tokenWhoami(t, s, tok.Token); code != ldap.LDAPResultInvalidCredentials {
				t.Fatalf("ldapwhoami after destroy, with the squatted copy: exit %d, %q; want 49", code, out)
			}
			_, err = bound.WhoAmI(nil)
			wantCode(t, "session bound before, after destroy", err, ldap.LDAPResultInvalidCredentials)
		})
	}
}

// uuidLike returns another UUID of the same form as id.
func uuidLike(id string) string {
	if id[0] == '0' {
		return "1" + id[1:]
	}
	return "0" + id[1:]
}

// A token whose own record is not a token record at its place, or is a
// token record at the wrong place, does not bind.
func TestTokenRecordWrongClassOrDepth(t *testing.T) {
	s := stacktest.New(t)
	ctx := context.Background()
	c := adminClient(t, s)
	victim := "uid=victim_svc," + services
	if _, err := c.CreateServiceAccount(ctx, "victim_svc", "victim", "idm_admin"); err != nil {
		t.Fatal(err)
	}
	// takeOut deletes the record at dn and hands it to put, which puts
	// something back in its place.
	takeOut := func(put func(tx directory.WriteTx, rec *directory.Entry, id string) error) func(directory.WriteTx, directory.DN, string) error {
		return func(tx directory.WriteTx, dn directory.DN, id string) error {
			rec, err := tx.Get(dn)
			if err != nil {
				return err
			}
			if err := tx.Delete(dn); err != nil {
				return err
			}
			return put(tx, rec, id)
		}
	}
	tests := []struct {
		name string
		// replace rewrites the record at dn (the token's own) in the store.
		replace func(tx directory.WriteTx, dn directory.DN, id string) error
	}{
		{"record of another class at its DN", takeOut(func(tx directory.WriteTx, rec *directory.Entry, id string) error {
			rec.Set("objectClass", "top", "applicationProcess")
			rec.Set("cn", "not a token")
			return tx.Add(rec)
		})},
		{"record moved two levels below the account", takeOut(func(tx directory.WriteTx, rec *directory.Entry, id string) error {
			deep := directory.NewEntry(directory.MustParseDN("cn=deep," + victim))
			deep.Set("objectClass", "top", "applicationProcess")
			deep.Set("cn", "deep")
			if _, err := tx.Get(deep.DN); err != nil {
				if err := tx.Add(deep); err != nil {
					return err
				}
			}
			rec.DN = directory.MustParseDN("ldapdTokenId=" + id + ",cn=deep," + victim)
			return tx.Add(rec)
		})},
		{"record moved directly under ou=services", takeOut(func(tx directory.WriteTx, rec *directory.Entry, id string) error {
			rec.DN = directory.MustParseDN("ldapdTokenId=" + id + "," + services)
			return tx.Add(rec)
		})},
		{"the account is no longer a service account", func(tx directory.WriteTx, dn directory.DN, id string) error {
			return tx.Modify(directory.MustParseDN(victim), []directory.Change{
				{Op: directory.ChangeReplace, Attr: "objectClass", Values: []string{"top", "applicationProcess"}},
				{Op: directory.ChangeAdd, Attr: "cn", Values: []string{"victim_svc"}},
			})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := c.GenerateToken(ctx, "victim_svc", admin.TokenRequest{Label: tc.name, ReadWrite: true})
			if err != nil {
				t.Fatal(err)
			}
			if code, out := tokenWhoami(t, s, tok.Token); code != 0 {
				t.Fatalf("ldapwhoami before: exit %d, %q", code, out)
			}
			bound := s.Bind(t, "dn=token", tok.Token)
			dn := directory.MustParseDN("ldapdTokenId=" + tok.ID + "," + victim)
			storeWrite(t, s, func(tx directory.WriteTx) error { return tc.replace(tx, dn, tok.ID) })
			if code, out := tokenWhoami(t, s, tok.Token); code != ldap.LDAPResultInvalidCredentials {
				t.Fatalf("ldapwhoami after: exit %d, %q; want 49", code, out)
			}
			_, err = bound.WhoAmI(nil)
			wantCode(t, "session bound before", err, ldap.LDAPResultInvalidCredentials)
		})
	}
}
