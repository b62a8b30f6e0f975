package idm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
	"github.com/ldapd/ldapd/password"
)

// stampNew sets the operational attributes of a new entry.
func (s *Service) stampNew(e *directory.Entry, sub acl.Subject) {
	s.stampCreated(e, sub, s.newUUID())
	if sc, err := s.schema.Check(e); err == nil {
		e.Set("structuralObjectClass", sc.Name())
	}
}

// stampCreated is stampNew without structuralObjectClass, which
// checkSchema sets: a write path that checks the entry anyway does not
// check it twice.
func (s *Service) stampCreated(e *directory.Entry, sub acl.Subject, uuid string) {
	now := directory.FormatGeneralizedTime(s.now())
	e.Set("entryUUID", uuid)
	e.Set("createTimestamp", now)
	e.Set("modifyTimestamp", now)
	if sub.Kind == acl.Account {
		e.Set("creatorsName", sub.DN.String())
		e.Set("modifiersName", sub.DN.String())
	}
}

// checkSchema checks e against the schema and sets its
// structuralObjectClass, an operational attribute the check does not
// depend on.
func (s *Service) checkSchema(e *directory.Entry) error {
	sc, err := s.schema.Check(e)
	if err != nil {
		return err
	}
	e.Set("structuralObjectClass", sc.Name())
	return nil
}

func (s *Service) newUUID() string {
	u, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		u = uuid.New()
	}
	return u.String()
}

// userModifiable rejects attributes clients may not set themselves.
func (s *Service) userModifiable(names []string) error {
	for _, n := range names {
		at, ok := s.schema.Attr(n)
		if !ok {
			return directory.Errorf(directory.ErrUndefinedAttributeType, n)
		}
		if at.NoUserModification || at.Operational() {
			return directory.Errorf(directory.ErrConstraintViolation, at.Name()+" is maintained by the server and cannot be set")
		}
		if strings.EqualFold(at.Name(), directory.AttrSPN) {
			return directory.Errorf(directory.ErrConstraintViolation, "spn is derived from uid and the domain and cannot be set")
		}
	}
	return nil
}

// maxPasswordValues bounds the userPassword values of one entry: an
// account needs one; a migration may bring a few.
const maxPasswordValues = 4

// hashPasswords hashes userPassword values with the server's argon2id
// parameters. A value that looks like a stored hash ({ARGON2}, {SSHA},
// {CRYPT}, ...) is kept as it is only when stored is set (ldapd import and
// the local admin socket, for migrations); from any other client it is
// the literal password it spells, hashed like any other: no writer chooses
// the scheme or the cost of the hash that later binds will verify.
func (s *Service) hashPasswords(ctx context.Context, values []string, stored bool) ([]string, error) {
	if len(values) > maxPasswordValues {
		return nil, directory.Errorf(directory.ErrConstraintViolation,
			fmt.Sprintf("at most %d userPassword values", maxPasswordValues))
	}
	out := make([]string, len(values))
	for i, v := range values {
		if stored && password.IsHashed(v) {
			if err := s.checkStoredHashes([]string{v}); err != nil {
				return nil, err
			}
			out[i] = v
			continue
		}
		if v == "" {
			return nil, directory.Errorf(directory.ErrConstraintViolation, "empty password")
		}
		h, err := s.hasher.Hash(ctx, v)
		if err != nil {
			return nil, fmt.Errorf("hash password: %w", err)
		}
		out[i] = h
	}
	return out, nil
}

// checkStoredHashes refuses stored hashes (from import or the admin
// socket) whose cost exceeds the server's own: a bind against them would
// cost what the writer chose. A malformed or unsupported value is kept: it
// never verifies (Verify refuses it too), so the account cannot bind with
// a password until one is set, as in the directory it came from.
func (s *Service) checkStoredHashes(values []string) error {
	for _, v := range values {
		if !password.IsHashed(v) {
			continue
		}
		if err := password.CheckParams(v, s.hasher.MaxParams()); errors.Is(err, password.ErrTooCostly) {
			return directory.Errorf(directory.ErrConstraintViolation, "userPassword: "+err.Error())
		}
	}
	return nil
}

// preDecide refuses a write the policy refuses before the server spends
// a password hash on it: hashing happens outside the write transaction,
// so the decision is taken again inside it.
func (s *Service) preDecide(ctx context.Context, id Identity, op acl.Op, dn directory.DN, e *directory.Entry, names []string) error {
	if id.Kind == acl.Root {
		return nil
	}
	if id.Kind == acl.Anonymous {
		return directory.Errorf(directory.ErrInsufficientAccess, "anonymous clients may not "+op.String()+" entries; bind first")
	}
	return s.view(ctx, id, func(tx directory.ReadTx, sub acl.Subject) error {
		t := acl.Target{Entry: e}
		if op != acl.OpAdd {
			old, err := s.visibleEntry(tx, sub, dn)
			if err != nil {
				return err
			}
			t = acl.Target{Entry: old, Account: s.parentAccount(tx, old)}
		}
		if d := s.policy.Decide(sub, op, t, names); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		return nil
	})
}

// Add creates entry e (attribute names as the client gave them) as id.
func (s *Service) Add(ctx context.Context, id Identity, e *directory.Entry) error {
	if e.DN.IsRoot() || !e.DN.IsDescendantOf(s.base) {
		return directory.Errorf(directory.ErrUnwillingToPerform, "entries can only be added below "+s.base.String())
	}
	e = e.Clone()
	names := make([]string, 0, len(e.Attrs))
	for i, a := range e.Attrs {
		at, ok := s.schema.Attr(a.Name)
		if !ok {
			return directory.Errorf(directory.ErrUndefinedAttributeType, a.Name)
		}
		e.Attrs[i].Name = at.Name()
		names = append(names, at.Name())
	}
	if id.Kind != acl.Root {
		if err := s.userModifiable(names); err != nil {
			return err
		}
	}
	if hasClass(e, directory.ClassAPIToken) {
		return directory.Errorf(directory.ErrUnwillingToPerform, "API token records are created by the token extended operation (ldapd service-account api-token generate)")
	}
	s.completeRFC2307Group(e)
	if err := s.schema.ExpandObjectClasses(e); err != nil {
		return err
	}
	s.deriveAccountAttrs(e)
	if pws := e.Get("userPassword"); len(pws) > 0 {
		if err := s.preDecide(ctx, id, acl.OpAdd, e.DN, e, names); err != nil {
			return err
		}
		hashed, err := s.hashPasswords(ctx, pws, id.Kind == acl.Root)
		if err != nil {
			return err
		}
		e.Set("userPassword", hashed...)
	}
	uuid := s.newUUID()
	return s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		e := e.Clone()
		if sub.Kind == acl.Account && !sub.ReadOnly {
			// Which rules apply depends on the structural class: an entry
			// without a valid one is a schema error, whoever adds it.
			if _, err := s.schema.CheckClasses(e); err != nil {
				return err
			}
		}
		if d := s.policy.MayWrite(sub, acl.OpAdd, acl.Target{Entry: e}, names); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		s.stampCreated(e, sub, uuid)
		if err := s.derivePosix(tx, nil, e); err != nil {
			return err
		}
		if err := s.checkSchema(e); err != nil {
			return err
		}
		if d := s.policy.Decide(sub, acl.OpAdd, acl.Target{Entry: e}, names); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		if err := s.checkLoginName(sub, nil, e); err != nil {
			return err
		}
		if err := s.checkPosixNumbers(sub, nil, e); err != nil {
			return err
		}
		if err := s.checkReferences(tx, e, e.DN); err != nil {
			return err
		}
		if err := tx.Add(e); err != nil {
			return err
		}
		return s.membersChanged(tx, sub, nil, e)
	})
}

// deriveAccountAttrs sets spn on accounts (entries with a uid under
// ou=people or ou=services) and the auxiliary class that allows it.
func (s *Service) deriveAccountAttrs(e *directory.Entry) {
	parent := e.DN.Parent()
	if !parent.Equal(s.policy.People) && !parent.Equal(s.policy.Services) {
		return
	}
	uid, ok := e.DN.RDN().Value("uid")
	if !ok {
		return
	}
	if !hasClass(e, directory.ClassServiceAccount) && !hasClass(e, directory.ClassAccount) {
		e.Add("objectClass", directory.ClassAccount)
	}
	e.Set(directory.AttrSPN, s.SPN(uid))
}

// checkReferences enforces what a single entry may point at: the
// entryManagedBy of a service account names an existing group or account,
// and account names (uid) are unique among accounts. self is the DN the
// entry has in the store now (its old DN during a rename; e.DN otherwise),
// so that an account does not collide with itself.
func (s *Service) checkReferences(tx directory.ReadTx, e *directory.Entry, self directory.DN) error {
	if v := e.First(directory.AttrEntryManagedBy); v != "" {
		dn, err := directory.ParseDN(v)
		if err != nil {
			return err
		}
		mgr, err := tx.Get(dn)
		if err != nil {
			return directory.Errorf(directory.ErrConstraintViolation, "entryManagedBy "+v+" does not exist")
		}
		if !hasClass(mgr, "groupOfNames") && !isAccount(mgr) {
			return directory.Errorf(directory.ErrConstraintViolation, "entryManagedBy "+v+" is neither a group nor an account")
		}
	}
	if isAccount(e) {
		for _, uid := range e.Get("uid") {
			dn, err := s.findAccount(tx, uid)
			if err == nil && !dn.Equal(self) {
				return directory.Errorf(directory.ErrConstraintViolation, "uid "+uid+" is already used by "+dn.String())
			}
		}
	}
	return nil
}

// Modify applies changes (attribute names as the client gave them) to dn.
func (s *Service) Modify(ctx context.Context, id Identity, dn directory.DN, changes []directory.Change) error {
	names := make([]string, 0, len(changes))
	changes = append([]directory.Change(nil), changes...)
	setsPassword := false
	for i, ch := range changes {
		at, ok := s.schema.Attr(ch.Attr)
		if !ok {
			return directory.Errorf(directory.ErrUndefinedAttributeType, ch.Attr)
		}
		changes[i].Attr = at.Name()
		names = append(names, at.Name())
		if at.Name() == "userPassword" && (ch.Op == directory.ChangeAdd || ch.Op == directory.ChangeReplace) {
			setsPassword = true
		}
		if at.Name() == "userPassword" && ch.Op == directory.ChangeDelete && len(ch.Values) > 0 {
			return directory.Errorf(directory.ErrUnwillingToPerform, "delete userPassword without values, or replace it")
		}
	}
	if id.Kind != acl.Root {
		if err := s.userModifiable(names); err != nil {
			return err
		}
	}
	if setsPassword {
		if err := s.preDecide(ctx, id, acl.OpModify, dn, nil, names); err != nil {
			return err
		}
		for i, ch := range changes {
			if ch.Attr == "userPassword" && (ch.Op == directory.ChangeAdd || ch.Op == directory.ChangeReplace) {
				hashed, err := s.hashPasswords(ctx, ch.Values, id.Kind == acl.Root)
				if err != nil {
					return err
				}
				changes[i].Values = hashed
			}
		}
	}
	return s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		old, err := s.visibleEntry(tx, sub, dn)
		if err != nil {
			return err
		}
		target := acl.Target{Entry: old, Account: s.parentAccount(tx, old)}
		if d := s.policy.MayWrite(sub, acl.OpModify, target, names); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		e := old.Clone()
		if err := directory.ApplyChanges(s.schema, e, changes); err != nil {
			return err
		}
		if err := s.checkObjectClassChange(old, e); err != nil {
			return err
		}
		if len(e.Get("userPassword")) > maxPasswordValues {
			return directory.Errorf(directory.ErrConstraintViolation, fmt.Sprintf("at most %d userPassword values", maxPasswordValues))
		}
		for _, ava := range e.DN.RDN().AVAs() {
			if !e.HasValue(s.schema, ava.Type, ava.Value) {
				return directory.Errorf(directory.ErrNotAllowedOnRDN, "cannot remove the naming value "+ava.Type+"="+ava.Value+"; rename the entry instead")
			}
		}
		e.Set("modifyTimestamp", directory.FormatGeneralizedTime(s.now()))
		if sub.Kind == acl.Account {
			e.Set("modifiersName", sub.DN.String())
		}
		if err := s.derivePosix(tx, old, e); err != nil {
			return err
		}
		if err := s.checkSchema(e); err != nil {
			return err
		}
		// The allow-list, on what the changes do: the attributes they name
		// and the object classes they add or remove.
		target.New = e
		if d := s.policy.Decide(sub, acl.OpModify, target, names); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		if err := s.checkLoginName(sub, old, e); err != nil {
			return err
		}
		if err := s.checkPosixNumbers(sub, old, e); err != nil {
			return err
		}
		if err := s.checkReferences(tx, e, dn); err != nil {
			return err
		}
		if err := tx.Modify(dn, diff(old, e)); err != nil {
			return err
		}
		return s.membersChanged(tx, sub, old, e)
	})
}

// checkObjectClassChange refuses a change of structural class (RFC 4512
// 2.4.2) and re-expands superclasses of added auxiliary classes. The
// caller's checkSchema sets structuralObjectClass.
func (s *Service) checkObjectClassChange(old, e *directory.Entry) error {
	if err := s.schema.ExpandObjectClasses(e); err != nil {
		return err
	}
	// Compare the structural classes themselves, not Check's verdict: the
	// new entry usually fails Check too (uid is not allowed by
	// organizationalRole), and the client must hear the real cause.
	if !slices.Equal(s.structuralClasses(old), s.structuralClasses(e)) {
		return directory.Errorf(directory.ErrObjectClassModsProhibited, "the structural object class cannot change")
	}
	return nil
}

// structuralClasses returns the canonical names of e's structural object
// classes (the chain, superclasses included), sorted.
func (s *Service) structuralClasses(e *directory.Entry) []string {
	var out []string
	for _, v := range e.Get("objectClass") {
		if c, ok := s.schema.Class(v); ok && c.Kind == directory.Structural && !slices.Contains(out, c.Name()) {
			out = append(out, c.Name())
		}
	}
	slices.Sort(out)
	return out
}

// diff turns old -> new into replace changes for every attribute that differs.
func diff(old, e *directory.Entry) []directory.Change {
	var out []directory.Change
	seen := map[string]bool{}
	for _, a := range e.Attrs {
		seen[strings.ToLower(a.Name)] = true
		if !equalValues(old.Get(a.Name), a.Values) {
			out = append(out, directory.Change{Op: directory.ChangeReplace, Attr: a.Name, Values: a.Values})
		}
	}
	for _, a := range old.Attrs {
		if !seen[strings.ToLower(a.Name)] {
			out = append(out, directory.Change{Op: directory.ChangeReplace, Attr: a.Name})
		}
	}
	return out
}

func equalValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// visibleEntry reads dn for sub; an entry sub may not see is reported as
// missing, so that existence does not leak. The matched DN of a missing
// entry is its deepest ancestor sub may see, so a hidden entry and an
// absent one get the same answer, and no hidden DN is ever named.
func (s *Service) visibleEntry(tx directory.ReadTx, sub acl.Subject, dn directory.DN) (*directory.Entry, error) {
	e, err := tx.Get(dn)
	if err != nil {
		if matched, ok := directory.MatchedDN(err); ok {
			return nil, directory.NoSuchObject(dn, s.visibleAncestor(tx, sub, matched))
		}
		return nil, err
	}
	if !s.policy.CanSee(sub, e, s.parentAccount(tx, e)) {
		return nil, directory.NoSuchObject(dn, s.visibleAncestor(tx, sub, dn.Parent()))
	}
	return e, nil
}

// visibleAncestor returns dn or its deepest ancestor that exists and sub
// may see; the root DN when there is none.
func (s *Service) visibleAncestor(tx directory.ReadTx, sub acl.Subject, dn directory.DN) directory.DN {
	for ; !dn.IsRoot(); dn = dn.Parent() {
		if e, err := tx.Get(dn); err == nil && s.policy.CanSee(sub, e, s.parentAccount(tx, e)) {
			return dn
		}
	}
	return dn
}

// parentAccount returns the service account of a token record, nil for
// other entries.
func (s *Service) parentAccount(tx directory.ReadTx, e *directory.Entry) *directory.Entry {
	if !hasClass(e, directory.ClassAPIToken) {
		return nil
	}
	acct, err := tx.Get(e.DN.Parent())
	if err != nil {
		return nil
	}
	return acct
}

// Delete removes dn. Deleting a service account also deletes its token
// records (revoking the tokens) in the same transaction; any other entry
// with children is refused with ErrNotAllowedOnNonLeaf.
func (s *Service) Delete(ctx context.Context, id Identity, dn directory.DN) error {
	var revoked []string
	err := s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		revoked = revoked[:0]
		e, err := s.visibleEntry(tx, sub, dn)
		if err != nil {
			return err
		}
		if d := s.policy.Decide(sub, acl.OpDelete, acl.Target{Entry: e, Account: s.parentAccount(tx, e)}, nil); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		if hasClass(e, directory.ClassServiceAccount) {
			var children []directory.DN
			err := tx.Search(dn, directory.ScopeOne, s.matchAll(), func(c *directory.Entry) error {
				if !hasClass(c, directory.ClassAPIToken) {
					return directory.Errorf(directory.ErrNotAllowedOnNonLeaf, "service account has children other than token records")
				}
				children = append(children, c.DN)
				return nil
			})
			if err != nil {
				return err
			}
			for _, c := range children {
				if err := tx.Delete(c); err != nil {
					return err
				}
				revoked = append(revoked, c.String())
			}
		}
		if err := tx.Delete(dn); err != nil {
			return err
		}
		return s.removeReferences(tx, e)
	})
	if err == nil {
		for _, r := range revoked {
			s.log.Info().Str("event", "security").Str("record", r).Msg("API token revoked with its account")
			s.tokenRevoked()
		}
		if strings.EqualFold(dn.RDN().AVAs()[0].Type, directory.AttrTokenID) {
			s.log.Info().Str("event", "security").Str("record", dn.String()).Str("revoked_by", id.String()).Msg("API token revoked")
			s.tokenRevoked()
		}
	}
	return err
}

func (s *Service) matchAll() *directory.Filter {
	f := &directory.Filter{Kind: directory.FilterPresent, Attr: "objectClass"}
	_ = f.Resolve(s.schema)
	return f
}

// Rename implements ModifyDN: newRDN under newParent (nil: same parent),
// deleting the old RDN values when deleteOld is set.
func (s *Service) Rename(ctx context.Context, id Identity, dn directory.DN, newRDN directory.RDN, deleteOld bool, newParent *directory.DN) error {
	parent := dn.Parent()
	if newParent != nil {
		parent = *newParent
	}
	target := parent.Child(newRDN)
	if !target.IsDescendantOf(s.base) {
		return directory.Errorf(directory.ErrUnwillingToPerform, "entries can only live below "+s.base.String())
	}
	return s.update(ctx, id, func(tx directory.WriteTx, sub acl.Subject) error {
		old, err := s.visibleEntry(tx, sub, dn)
		if err != nil {
			return err
		}
		if hasClass(old, directory.ClassAPIToken) {
			return directory.Errorf(directory.ErrUnwillingToPerform, "API token records cannot be renamed")
		}
		e := old.Clone()
		// An account's login name is one value: a rename replaces it,
		// whether or not the client asked to delete the old RDN value.
		if k := s.policy.KindOf(old); (k == acl.KindPerson || k == acl.KindServiceAccount) && sub.Kind != acl.Root {
			if _, ok := dn.RDN().Value("uid"); ok {
				deleteOld = true
			}
		}
		if deleteOld {
			for _, ava := range dn.RDN().AVAs() {
				if v, still := newRDN.Value(ava.Type); still && s.equalValues(ava.Type, v, ava.Value) {
					continue // the value stays as part of the new RDN
				}
				if err := directory.ApplyChanges(s.schema, e, []directory.Change{{Op: directory.ChangeDelete, Attr: ava.Type, Values: []string{ava.Value}}}); err != nil {
					return err
				}
			}
		}
		for _, ava := range newRDN.AVAs() {
			if !e.HasValue(s.schema, ava.Type, ava.Value) {
				at, ok := s.schema.Attr(ava.Type)
				if !ok {
					return directory.Errorf(directory.ErrUndefinedAttributeType, ava.Type)
				}
				e.Add(at.Name(), ava.Value)
			}
		}
		e.DN = target
		s.deriveAccountAttrs(e)
		e.Set("modifyTimestamp", directory.FormatGeneralizedTime(s.now()))
		if sub.Kind == acl.Account {
			e.Set("modifiersName", sub.DN.String())
		}
		if d := s.policy.Decide(sub, acl.OpRename, acl.Target{Entry: old, New: e}, nil); !d.Allowed {
			return directory.Errorf(directory.ErrInsufficientAccess, d.Reason)
		}
		if err := s.checkLoginName(sub, nil, e); err != nil {
			return err
		}
		// RFC 4511 4.9: a taken target is entryAlreadyExists, whatever
		// else (uid uniqueness, schema) the new entry would break.
		if _, err := tx.Get(target); err == nil && !target.Equal(dn) {
			return directory.Errorf(directory.ErrEntryAlreadyExists, "entry "+target.String()+" already exists")
		}
		if _, err := s.schema.Check(e); err != nil {
			return err
		}
		if err := s.checkReferences(tx, e, dn); err != nil {
			return err
		}
		if err := tx.Modify(dn, diff(old, e)); err != nil {
			return err
		}
		var moved []directory.DN
		if err := tx.Search(dn, directory.ScopeSub, s.matchAll(), func(c *directory.Entry) error {
			moved = append(moved, c.DN)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Rename(dn, newRDN, newParent); err != nil {
			return err
		}
		for _, m := range moved {
			if err := s.rewriteReferences(tx, m, rebase(m, dn, target)); err != nil {
				return err
			}
		}
		return nil
	})
}

// equalValues reports whether a and b are the same value of attr under its
// equality rule.
func (s *Service) equalValues(attr, a, b string) bool {
	at, ok := s.schema.Attr(attr)
	if !ok {
		return a == b
	}
	na, okA := at.Normalize(a)
	nb, okB := at.Normalize(b)
	return okA && okB && na == nb
}

// rebase maps dn, at or below from, to the same place below to.
func rebase(dn, from, to directory.DN) directory.DN {
	out := to
	rdns := dn.RDNs()[:dn.Depth()-from.Depth()]
	for i := len(rdns) - 1; i >= 0; i-- {
		out = out.Child(rdns[i])
	}
	return out
}
