package idm

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/directory"
)

// RFC 2307 identity data for nslcd, sssd and friends.
//
// An entry that gains the auxiliary class posixAccount (on Add, or by a
// Modify adding the class) without a uidNumber is given one from the
// configured uid range, with gidNumber equal to it (a user private group,
// as in Kanidm) unless the client set one, homeDirectory /home/UID,
// loginShell /bin/bash, gecos from displayName (when it is ASCII) and cn
// from uid when missing. An entry that gains posixGroup without a gidNumber
// is given one from the gid range. Numbers come from a high-water mark kept
// in the store's metadata inside the write transaction, so a number is
// never handed out twice, not even after its entry is deleted or the range
// is moved; numbers already in use (set by hand) are skipped.
//
// memberUid on a posixGroup follows member: the uid of each direct member
// whose DN is uid=NAME,.... The server keeps it in step whenever member
// changes (writes, deletes and renames of members), so filters such as
// (memberUid=demo_user) use the index. Clients may write memberUid too, as
// RFC 2307 tools do (ldapscripts, smbldap-tools, migrated LDIF): on a
// group that may hold member (groupOfNames), a memberUid value added or
// removed that names an existing account adds or removes that account's
// member value in the same write; a value naming no account (a host-local
// user) is stored as given. Membership, and so rights, still come only
// from member of a group entry: memberUid itself confers nothing, and the
// write policy lets only roles that may write member write memberUid.

// Object classes and attributes of RFC 2307.
const (
	classPosixAccount = "posixAccount"
	classPosixGroup   = "posixGroup"
	attrUIDNumber     = "uidNumber"
	attrGIDNumber     = "gidNumber"
	attrMemberUID     = "memberUid"
)

// IDRange is an inclusive range of POSIX ids.
type IDRange struct{ Min, Max uint32 }

// DefaultIDRange is the range uidNumber and gidNumber are allocated from
// unless configured otherwise.
var DefaultIDRange = IDRange{Min: 10000, Max: 60000}

// ParseIDRange parses "MIN-MAX", e.g. 10000-60000.
func ParseIDRange(s string) (IDRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	bad := fmt.Errorf("invalid id range %q: want MIN-MAX, e.g. 10000-60000, with 0 < MIN <= MAX < 2147483648", s)
	if !ok {
		return IDRange{}, bad
	}
	min, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 31)
	max, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 31)
	if err1 != nil || err2 != nil || min == 0 || min > max {
		return IDRange{}, bad
	}
	return IDRange{Min: uint32(min), Max: uint32(max)}, nil
}

func (r IDRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

func (r IDRange) orDefault() IDRange {
	if r.Min == 0 || r.Max < r.Min {
		return DefaultIDRange
	}
	return r
}

// derivePosix completes the RFC 2307 attributes of e, which is being added
// (old == nil) or modified from old, and checks that the numbers it carries
// are unique. It runs inside the write transaction, before the schema check.
func (s *Service) derivePosix(tx directory.WriteTx, old, e *directory.Entry) error {
	gained := func(class string) bool {
		return hasClass(e, class) && (old == nil || !hasClass(old, class))
	}
	if gained(classPosixAccount) {
		if err := s.fillPosixAccount(tx, e); err != nil {
			return err
		}
	}
	if gained(classPosixGroup) && !e.Has(attrGIDNumber) {
		n, err := s.allocateID(tx, attrGIDNumber, s.cfg.GIDRange.orDefault(), func(n string) (bool, error) {
			return s.numberTaken(tx, e.DN, attrGIDNumber, n)
		})
		if err != nil {
			return err
		}
		e.Set(attrGIDNumber, n)
	}
	var derived []string
	if old != nil && hasClass(old, classPosixGroup) {
		derived = memberUIDs(old.Get("member"))
	}
	if err := s.memberUIDToMember(tx, old, e); err != nil {
		return err
	}
	syncMemberUID(e, derived)
	return s.checkPosixUnique(tx, old, e)
}

func (s *Service) fillPosixAccount(tx directory.WriteTx, e *directory.Entry) error {
	if !e.Has(attrUIDNumber) {
		// The number also serves as the user private group's gidNumber, so
		// it must be free as both.
		attrs := []string{attrUIDNumber}
		if !e.Has(attrGIDNumber) {
			attrs = append(attrs, attrGIDNumber)
		}
		n, err := s.allocateID(tx, attrUIDNumber, s.cfg.UIDRange.orDefault(), func(n string) (bool, error) {
			for _, a := range attrs {
				if taken, err := s.numberTaken(tx, e.DN, a, n); taken || err != nil {
					return taken, err
				}
			}
			return false, nil
		})
		if err != nil {
			return err
		}
		e.Set(attrUIDNumber, n)
	}
	if !e.Has(attrGIDNumber) {
		e.Set(attrGIDNumber, e.First(attrUIDNumber))
	}
	uid := e.First("uid")
	if uid == "" {
		return nil // the schema check reports the missing uid
	}
	if !e.Has("homeDirectory") && isIA5(uid) {
		e.Set("homeDirectory", "/home/"+uid)
	}
	if !e.Has("loginShell") {
		e.Set("loginShell", "/bin/bash")
	}
	if dn := e.First("displayName"); !e.Has("gecos") && dn != "" && isIA5(dn) {
		e.Set("gecos", dn)
	}
	if !e.Has("cn") {
		e.Set("cn", uid)
	}
	return nil
}

// allocateID returns the next number of counter (uidNumber or gidNumber)
// in r that taken does not refuse, and advances the counter's high-water
// mark past it. The mark only grows: a number is never allocated twice.
func (s *Service) allocateID(tx directory.WriteTx, counter string, r IDRange, taken func(string) (bool, error)) (string, error) {
	key := "posix." + counter + ".last"
	next := uint64(r.Min)
	switch v, err := tx.Meta(key); {
	case err == nil:
		last, perr := strconv.ParseUint(string(v), 10, 32)
		if perr != nil {
			return "", fmt.Errorf("metadata %s: %w", key, perr)
		}
		next = max(next, last+1)
	case !errors.Is(err, directory.ErrMetaNotFound):
		return "", err
	}
	for ; next <= uint64(r.Max); next++ {
		n := strconv.FormatUint(next, 10)
		t, err := taken(n)
		if err != nil {
			return "", err
		}
		if t {
			continue
		}
		if err := tx.SetMeta(key, []byte(n)); err != nil {
			return "", err
		}
		return n, nil
	}
	return "", directory.Errorf(directory.ErrUnwillingToPerform,
		fmt.Sprintf("no %s left in the range %s: widen it (ldapd serve --%s-range) or set %s by hand",
			counter, r, map[string]string{attrUIDNumber: "uid", attrGIDNumber: "gid"}[counter], counter))
}

// numberTaken reports whether an entry other than self has attr = n.
func (s *Service) numberTaken(tx directory.ReadTx, self directory.DN, attr, n string) (bool, error) {
	return s.otherWith(tx, self, s.eqFilter(attr, n))
}

func (s *Service) otherWith(tx directory.ReadTx, self directory.DN, f *directory.Filter) (bool, error) {
	found := false
	err := tx.Search(s.base, directory.ScopeSub, f, func(o *directory.Entry) error {
		if o.DN.Equal(self) {
			return nil
		}
		found = true
		return directory.ErrStop
	})
	return found, err
}

// checkPosixUnique refuses a uidNumber another entry has, and the gidNumber
// of a posixGroup another posixGroup has, when e sets them anew.
func (s *Service) checkPosixUnique(tx directory.ReadTx, old, e *directory.Entry) error {
	changed := func(attr string) (string, bool) {
		v := e.First(attr)
		return v, v != "" && (old == nil || old.First(attr) != v)
	}
	if v, ok := changed(attrUIDNumber); ok {
		taken, err := s.numberTaken(tx, e.DN, attrUIDNumber, v)
		if err != nil {
			return err
		}
		if taken {
			return directory.Errorf(directory.ErrConstraintViolation, "uidNumber "+v+" is already in use")
		}
	}
	if v, ok := changed(attrGIDNumber); ok && hasClass(e, classPosixGroup) {
		f := &directory.Filter{Kind: directory.FilterAnd, Children: []*directory.Filter{
			{Kind: directory.FilterEquality, Attr: "objectClass", Value: classPosixGroup},
			{Kind: directory.FilterEquality, Attr: attrGIDNumber, Value: v},
		}}
		if err := f.Resolve(s.schema); err != nil {
			return err
		}
		taken, err := s.otherWith(tx, e.DN, f)
		if err != nil {
			return err
		}
		if taken {
			return directory.Errorf(directory.ErrConstraintViolation, "gidNumber "+v+" is already used by another posixGroup")
		}
	}
	return nil
}

// memberUIDToMember applies the memberUid values a write adds or removes
// to member, for those naming an existing account, on a posixGroup that is
// a groupOfNames.
func (s *Service) memberUIDToMember(tx directory.ReadTx, old, e *directory.Entry) error {
	if !hasClass(e, classPosixGroup) || !hasClass(e, "groupOfNames") {
		return nil
	}
	var before []string
	if old != nil {
		before = old.Get(attrMemberUID)
	}
	after := e.Get(attrMemberUID)
	members := e.Get("member")
	changed := false
	for _, uid := range after {
		if slices.Contains(before, uid) {
			continue
		}
		dn, err := s.findAccount(tx, uid)
		if err != nil {
			continue // a host-local user: stored as given
		}
		if !slices.ContainsFunc(members, func(m string) bool { return sameDN(m, dn) }) {
			members = append(slices.Clone(members), dn.String())
			changed = true
		}
	}
	for _, uid := range before {
		if slices.Contains(after, uid) {
			continue
		}
		dn, err := s.findAccount(tx, uid)
		if err != nil {
			continue
		}
		if i := slices.IndexFunc(members, func(m string) bool { return sameDN(m, dn) }); i >= 0 {
			members = slices.Delete(slices.Clone(members), i, i+1)
			changed = true
		}
	}
	if changed {
		e.Set("member", members...)
	}
	return nil
}

// completeRFC2307Group gives a posixGroup added without a structural
// class (RFC 2307 has posixGroup structural, ldapd's RFC 2307bis schema
// auxiliary) the structural class groupOfNames, so that the groups RFC
// 2307 tools add (ldapscripts' objectClass: posixGroup) fit the schema.
func (s *Service) completeRFC2307Group(e *directory.Entry) {
	if !hasClass(e, classPosixGroup) {
		return
	}
	for _, v := range e.Get("objectClass") {
		if c, ok := s.schema.Class(v); ok && c.Kind == directory.Structural {
			return
		}
	}
	e.Add("objectClass", "groupOfNames")
}

func sameDN(v string, dn directory.DN) bool {
	d, err := directory.ParseDN(v)
	return err == nil && d.Equal(dn)
}

// memberUIDs returns the uid of each member value named uid=NAME, in
// order, each once.
func memberUIDs(members []string) []string {
	var uids []string
	for _, dn := range dnValues(members) {
		if uid, ok := dn.RDN().Value("uid"); ok && !slices.Contains(uids, uid) {
			uids = append(uids, uid)
		}
	}
	return uids
}

// syncMemberUID sets memberUid of a posixGroup to the uids of its members,
// and removes it from other entries. Values that the server did not derive
// (not in derived, the uids of the members before this write) came from an
// import or the local root and are kept, so that a plain RFC 2307 group
// (memberUid and no member) survives changes.
func syncMemberUID(e *directory.Entry, derived []string) {
	if !hasClass(e, classPosixGroup) {
		if e.Has(attrMemberUID) {
			e.Delete(attrMemberUID)
		}
		return
	}
	uids := memberUIDs(e.Get("member"))
	for _, v := range e.Get(attrMemberUID) {
		if !slices.Contains(derived, v) && !slices.Contains(uids, v) {
			uids = append(uids, v)
		}
	}
	e.Set(attrMemberUID, uids...)
}

// refreshMemberUID re-derives memberUid of the groups after a member
// value naming gone was removed from them or rewritten (deletes and renames
// of members).
func (s *Service) refreshMemberUID(tx directory.WriteTx, groups []directory.DN, gone directory.DN) error {
	for _, dn := range groups {
		g, err := tx.Get(dn)
		if errors.Is(err, directory.ErrNoSuchObject) {
			continue
		}
		if err != nil {
			return err
		}
		if !hasClass(g, classPosixGroup) {
			continue
		}
		before := g.Get(attrMemberUID)
		syncMemberUID(g, append(memberUIDs(g.Get("member")), memberUIDs([]string{gone.String()})...))
		if !slices.Equal(before, g.Get(attrMemberUID)) {
			if err := tx.Modify(dn, []directory.Change{{Op: directory.ChangeReplace, Attr: attrMemberUID, Values: g.Get(attrMemberUID)}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func isIA5(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] < 0x20 {
			return false
		}
	}
	return true
}

// checkPosixNumbers holds the uidNumber and gidNumber a client sets to the
// configured ranges: a uidNumber in the uid range, a group's gidNumber in
// the gid range, an account's gidNumber (its primary group) in either.
// Zero, root's number, is never accepted. Numbers the entry already had
// are not checked again; the local root (import, the admin socket) is not
// held to the ranges. Which clients may set a number at all is the write
// policy's (acl): people admins on people, group admins on groups.
func (s *Service) checkPosixNumbers(sub acl.Subject, old, e *directory.Entry) error {
	if sub.Kind == acl.Root {
		return nil
	}
	uids, gids := s.cfg.UIDRange.orDefault(), s.cfg.GIDRange.orDefault()
	check := func(attr string, ranges ...IDRange) error {
		for _, v := range e.Get(attr) {
			if old != nil && slices.Contains(old.Get(attr), v) {
				continue
			}
			n, err := strconv.ParseUint(v, 10, 32)
			inRange := false
			for _, r := range ranges {
				inRange = inRange || (err == nil && n >= uint64(r.Min) && n <= uint64(r.Max))
			}
			if !inRange || n == 0 {
				var want []string
				for _, r := range ranges {
					want = append(want, r.String())
				}
				return directory.Errorf(directory.ErrConstraintViolation,
					attr+" "+v+" is outside the configured range "+strings.Join(want, " or ")+"; leave it out to have one allocated")
			}
		}
		return nil
	}
	if err := check(attrUIDNumber, uids); err != nil {
		return err
	}
	if hasClass(e, classPosixGroup) {
		return check(attrGIDNumber, gids)
	}
	return check(attrGIDNumber, uids, gids)
}
