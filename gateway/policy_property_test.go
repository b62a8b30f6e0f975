package gateway_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/internal/stacktest"
)

// TestPolicyProperty drives random writes (actor, entry, attributes,
// operation) through the real server and checks two properties against the
// write policy's table (acl.Policy.Decide):
//
//  1. a write the table refuses is refused end to end;
//  2. no write by a non-admin changes any account's effective groups
//     (memberOf) except a change of members of a group entry that the
//     actor may manage.
//
// LDAPD_PROPERTY_SEED and LDAPD_PROPERTY_N vary the run.
func TestPolicyProperty(t *testing.T) {
	seed, n := uint64(1), 200
	if v, err := strconv.ParseUint(os.Getenv("LDAPD_PROPERTY_SEED"), 10, 64); err == nil {
		seed = v
	}
	if v, err := strconv.Atoi(os.Getenv("LDAPD_PROPERTY_N")); err == nil {
		n = v
	}
	if testing.Short() {
		n = 40
	}
	s := delegationFixture(t)
	schema := directory.Builtin()
	policy := s.IDM.Policy()
	rng := rand.New(rand.NewPCG(seed, 2))

	type actor struct {
		name  string
		conn  *ldap.Conn
		dn    string
		token bool
	}
	actors := []actor{
		{"demo_user (manager)", s.Bind(t, "demo_user", demoUserPW), personDN("demo_user"), false},
		{"mallory (no rights)", s.Bind(t, "mallory", malloryPW), personDN("mallory"), false},
		{"gina (group admin)", s.Bind(t, "gina", ginaPW), personDN("gina"), false},
		{"pete (people admin)", s.Bind(t, "pete", petePW), personDN("pete"), false},
		{"demo_service (rw token)", s.Bind(t, "dn=token", s.rwToken), serviceDN("demo_service"), true},
		{"idm_admin", s.IDMAdmin(t), personDN("idm_admin"), false},
	}
	targets := []string{personDN("alice"), personDN("mallory"), personDN("demo_user"), groupDN("demo_group"),
		groupDN("other_group"), groupDN("idm_people_pii_read"), groupDN("idm_admins"), serviceDN("demo_service"),
		serviceDN("other_service"), people}
	values := map[string][]string{
		"member":         {personDN("mallory"), personDN("alice"), serviceDN("other_service")},
		"uniqueMember":   {personDN("mallory")},
		"objectClass":    {"extensibleObject", "posixAccount", "posixGroup", "groupOfNames", "shadowAccount"},
		"userPassword":   {"prop-pw-1"},
		"description":    {"d1", "d2"},
		"displayName":    {"Disp"},
		"uidNumber":      {"0", "10999", "5"},
		"gidNumber":      {"0", "10998"},
		"uid":            {"root", "other"},
		"mail":           {"m@example.com"},
		"entryManagedBy": {groupDN("other_group"), personDN("mallory")},
		"memberOf":       {groupDN("idm_people_pii_read")},
		"ldapdTokenId":   {"4de2a4e9-e06a-4c5e-8a1b-33f4e7dd5dc7"},
		"cn":             {"c"},
		"sn":             {"s"},
		"homeDirectory":  {"/root"},
	}
	attrNames := make([]string, 0, len(values))
	for a := range values {
		attrNames = append(attrNames, a)
	}
	slices.Sort(attrNames)
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }

	get := func(dn string) *directory.Entry {
		var e *directory.Entry
		_ = s.Store.View(context.Background(), func(tx directory.ReadTx) error {
			e, _ = tx.Get(directory.MustParseDN(dn))
			return nil
		})
		return e
	}
	subjectOf := func(a actor) (acl.Subject, bool) {
		e := get(a.dn)
		if e == nil {
			return acl.Subject{}, false
		}
		groups := map[string]bool{}
		for _, g := range e.Get("memberOf") {
			groups[directory.MustParseDN(g).Norm()] = true
		}
		return acl.Subject{Kind: acl.Account, DN: e.DN, Groups: groups, Token: a.token}, true
	}
	// memberships maps each account's entryUUID to the entryUUIDs of its
	// groups: identities, so that renaming a group or an account changes
	// nobody's effective groups.
	memberships := func() map[string]string {
		var all []*directory.Entry
		_ = s.Store.View(context.Background(), func(tx directory.ReadTx) error {
			f := &directory.Filter{Kind: directory.FilterPresent, Attr: "objectClass"}
			_ = f.Resolve(schema)
			return tx.Search(directory.MustParseDN(base), directory.ScopeSub, f, func(e *directory.Entry) error {
				all = append(all, e)
				return nil
			})
		})
		uuids := map[string]string{}
		for _, e := range all {
			uuids[e.DN.Norm()] = e.First("entryUUID")
		}
		out := map[string]string{}
		for _, e := range all {
			if !policy.IsAccount(e) {
				continue
			}
			var m []string
			for _, g := range e.Get("memberOf") {
				m = append(m, uuids[directory.MustParseDN(g).Norm()])
			}
			slices.Sort(m)
			out[e.First("entryUUID")] = strings.Join(m, ";")
		}
		return out
	}

	allowed, refused := 0, 0
	for i := range n {
		a := actors[rng.IntN(len(actors))]
		sub, ok := subjectOf(a)
		before := memberships()
		var (
			desc     string
			decision acl.Decision
			err      error
			target   *directory.Entry
			op       acl.Op
		)
		switch r := rng.IntN(10); {
		case r < 7: // Modify with one or two changes
			op = acl.OpModify
			dn := pick(targets)
			target = get(dn)
			req := ldap.NewModifyRequest(dn, nil)
			var changes []directory.Change
			var names []string
			for range 1 + rng.IntN(2) {
				attr := pick(attrNames)
				v := pick(values[attr])
				ch := directory.Change{Attr: attr, Values: []string{v}}
				switch rng.IntN(3) {
				case 0:
					req.Add(attr, []string{v})
					ch.Op = directory.ChangeAdd
				case 1:
					req.Replace(attr, []string{v})
					ch.Op = directory.ChangeReplace
				default:
					req.Delete(attr, nil)
					ch.Op, ch.Values = directory.ChangeDelete, nil
				}
				at, _ := schema.Attr(attr)
				changes = append(changes, directory.Change{Op: ch.Op, Attr: at.Name(), Values: ch.Values})
				names = append(names, at.Name())
			}
			desc = a.name + " modifies " + dn + " " + strings.Join(names, ",")
			if target != nil && ok {
				after := target.Clone()
				if directory.ApplyChanges(schema, after, changes) == nil {
					_ = schema.ExpandObjectClasses(after)
					decision = policy.Decide(sub, op, acl.Target{Entry: target, New: after}, names)
				} else {
					ok = false
				}
			}
			err = a.conn.Modify(req)
		case r < 9: // Add an entry of some shape somewhere
			op = acl.OpAdd
			parent := pick([]string{people, groups, services})
			rdn := pick([]string{"uid", "cn"}) + "=prop" + strconv.Itoa(i)
			name := strings.TrimPrefix(strings.TrimPrefix(rdn, "uid="), "cn=")
			shapes := [][]string{{"inetOrgPerson"}, {"groupOfNames"}, {"ldapdServiceAccount"},
				{"groupOfNames", "posixGroup"}, {"inetOrgPerson", "posixAccount"}, {"inetOrgPerson", "extensibleObject"}}
			classes := shapes[rng.IntN(len(shapes))]
			pairs := []string{"uid", name, "cn", name, "sn", name}
			for _, c := range classes {
				pairs = append(pairs, "objectClass", c)
			}
			for range rng.IntN(3) {
				attr := pick(attrNames)
				if attr != "objectClass" && attr != "uid" && attr != "cn" && attr != "sn" {
					pairs = append(pairs, attr, pick(values[attr]))
				}
			}
			req := &ldap.AddRequest{DN: rdn + "," + parent, Attributes: attrs(pairs...)}
			e := directory.NewEntry(directory.MustParseDN(req.DN))
			var names []string
			for j := 0; j+1 < len(pairs); j += 2 {
				at, _ := schema.Attr(pairs[j])
				e.Add(at.Name(), pairs[j+1])
				if !slices.Contains(names, at.Name()) {
					names = append(names, at.Name())
				}
			}
			_ = schema.ExpandObjectClasses(e)
			target = e
			desc = a.name + " adds " + req.DN + " " + strings.Join(names, ",")
			decision = policy.Decide(sub, op, acl.Target{Entry: e}, names)
			err = a.conn.Add(req)
		default: // Rename an entry, maybe into another container
			op = acl.OpRename
			dn := pick(targets)
			target = get(dn)
			parent := pick([]string{people, groups, services})
			rdn := pick([]string{"uid", "cn"}) + "=moved" + strconv.Itoa(i)
			desc = a.name + " renames " + dn + " to " + rdn + "," + parent
			if target != nil && ok {
				moved := target.Clone()
				moved.DN = directory.MustParseDN(rdn + "," + parent)
				decision = policy.Decide(sub, op, acl.Target{Entry: target, New: moved}, nil)
			}
			err = a.conn.ModifyDN(ldap.NewModifyDNRequest(dn, rdn, true, parent))
		}
		code := stacktest.ResultCode(err)
		if ok && target != nil && !decision.Allowed {
			refused++
			if code == 0 {
				t.Fatalf("step %d: %s: the table refuses (%s) but the server allowed it", i, desc, decision.Reason)
			}
		} else if code == 0 {
			allowed++
		}
		if code != 0 {
			continue
		}
		after := memberships()
		for acct, groups := range before {
			if after[acct] == groups {
				continue
			}
			if a.name == "idm_admin" {
				continue // an admin of every kind: property 2 is about non-admins
			}
			manages := op == acl.OpModify && target != nil && policy.IsGroup(target) &&
				policy.Decide(sub, acl.OpModify, acl.Target{Entry: target}, []string{"member"}).Allowed
			if !manages {
				t.Fatalf("step %d: %s changed the groups of %s from %q to %q", i, desc, acct, groups, after[acct])
			}
		}
	}
	t.Logf("seed %d: %d writes, %d refused by the table (and by the server), %d allowed and made", seed, n, refused, allowed)
	if refused == 0 || allowed == 0 {
		t.Fatalf("the run exercised only one side: %d refused, %d allowed", refused, allowed)
	}
}
