package directory_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/ldapd/ldapd/directory"
)

func TestApplyChanges(t *testing.T) {
	s := directory.Builtin()
	ch := func(op directory.ChangeOp, attr string, values ...string) directory.Change {
		return directory.Change{Op: op, Attr: attr, Values: values}
	}
	tests := []struct {
		name    string
		changes []directory.Change
		wantErr error
		// On success: attribute -> values afterwards (nil: absent).
		want map[string][]string
	}{
		{"add new attribute", []directory.Change{ch(directory.ChangeAdd, "description", "a", "b")}, nil,
			map[string][]string{"description": {"a", "b"}}},
		{"add by alias and option", []directory.Change{ch(directory.ChangeAdd, "surname;lang-en", "Smyth")}, nil,
			map[string][]string{"sn": {"Smith", "Smyth"}}},
		{"add value to existing", []directory.Change{ch(directory.ChangeAdd, "cn", "Ali")}, nil,
			map[string][]string{"cn": {"Alice Smith", "Ali"}}},
		{"add existing value", []directory.Change{ch(directory.ChangeAdd, "cn", "Alice Smith")},
			directory.ErrAttributeOrValueExists, nil},
		{"add existing value other case", []directory.Change{ch(directory.ChangeAdd, "cn", "ALICE   SMITH")},
			directory.ErrAttributeOrValueExists, nil},
		{"add same value twice in one change", []directory.Change{ch(directory.ChangeAdd, "description", "x", "X")},
			directory.ErrAttributeOrValueExists, nil},
		{"add case-exact value other case", []directory.Change{ch(directory.ChangeAdd, "memberUid", "Bob", "BOB")}, nil,
			map[string][]string{"memberUid": {"bob", "Bob", "BOB"}}},
		{"add with no values", []directory.Change{ch(directory.ChangeAdd, "description")},
			directory.ErrConstraintViolation, nil},
		{"add bad syntax", []directory.Change{ch(directory.ChangeAdd, "gidNumber", "x")},
			directory.ErrInvalidAttributeSyntax, nil},
		{"delete whole attribute", []directory.Change{ch(directory.ChangeDelete, "mail")}, nil,
			map[string][]string{"mail": nil, "cn": {"Alice Smith"}}},
		{"delete one value", []directory.Change{ch(directory.ChangeDelete, "telephoneNumber", "+1 555 0101")}, nil,
			map[string][]string{"telephoneNumber": {"+1 555 0100"}}},
		{"delete value by equality rule", []directory.Change{ch(directory.ChangeDelete, "telephoneNumber", "+1-555-0101")}, nil,
			map[string][]string{"telephoneNumber": {"+1 555 0100"}}},
		{"delete last value removes attribute", []directory.Change{ch(directory.ChangeDelete, "mail", "ALICE@example.com")}, nil,
			map[string][]string{"mail": nil}},
		{"delete missing attribute", []directory.Change{ch(directory.ChangeDelete, "description")},
			directory.ErrNoSuchAttribute, nil},
		{"delete missing value", []directory.Change{ch(directory.ChangeDelete, "cn", "Bob")},
			directory.ErrNoSuchAttribute, nil},
		{"delete same value twice", []directory.Change{ch(directory.ChangeDelete, "telephoneNumber", "+1 555 0100", "+1 555 0100")},
			directory.ErrNoSuchAttribute, nil},
		{"replace", []directory.Change{ch(directory.ChangeReplace, "cn", "A", "B")}, nil,
			map[string][]string{"cn": {"A", "B"}}},
		{"replace creates", []directory.Change{ch(directory.ChangeReplace, "description", "new")}, nil,
			map[string][]string{"description": {"new"}}},
		{"replace with no values removes", []directory.Change{ch(directory.ChangeReplace, "mail")}, nil,
			map[string][]string{"mail": nil}},
		{"replace missing with no values", []directory.Change{ch(directory.ChangeReplace, "description")}, nil,
			map[string][]string{"description": nil}},
		{"replace with duplicates", []directory.Change{ch(directory.ChangeReplace, "cn", "A", "a")},
			directory.ErrAttributeOrValueExists, nil},
		{"increment", []directory.Change{ch(directory.ChangeIncrement, "uidNumber", "5")}, nil,
			map[string][]string{"uidNumber": {"1005"}}},
		{"increment negative", []directory.Change{ch(directory.ChangeIncrement, "uidNumber", "-1001")}, nil,
			map[string][]string{"uidNumber": {"-1"}}},
		{"increment twice", []directory.Change{ch(directory.ChangeIncrement, "uidNumber", "1"), ch(directory.ChangeIncrement, "uidNumber", "1")}, nil,
			map[string][]string{"uidNumber": {"1002"}}},
		{"increment non-integer attribute", []directory.Change{ch(directory.ChangeIncrement, "cn", "1")},
			directory.ErrConstraintViolation, nil},
		{"increment by non-integer", []directory.Change{ch(directory.ChangeIncrement, "uidNumber", "one")},
			directory.ErrInvalidAttributeSyntax, nil},
		{"increment without value", []directory.Change{ch(directory.ChangeIncrement, "uidNumber")},
			directory.ErrConstraintViolation, nil},
		{"increment missing attribute", []directory.Change{ch(directory.ChangeIncrement, "shadowMin", "1")},
			directory.ErrNoSuchAttribute, nil},
		{"unknown attribute", []directory.Change{ch(directory.ChangeAdd, "favouriteColour", "blue")},
			directory.ErrUndefinedAttributeType, nil},
		{"unknown operation", []directory.Change{ch(directory.ChangeOp(7), "cn", "x")},
			directory.ErrUnwillingToPerform, nil},
		{"in order: delete then add", []directory.Change{ch(directory.ChangeDelete, "cn"), ch(directory.ChangeAdd, "cn", "New")}, nil,
			map[string][]string{"cn": {"New"}}},
		{"in order: later change fails", []directory.Change{ch(directory.ChangeAdd, "description", "x"), ch(directory.ChangeDelete, "title")},
			directory.ErrNoSuchAttribute, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := entry(t, "uid=alice,dc=example,dc=com",
				"objectClass", "inetOrgPerson", "uid", "alice", "cn", "Alice Smith", "sn", "Smith",
				"mail", "alice@example.com", "uidNumber", "1000",
				"telephoneNumber", "+1 555 0100", "telephoneNumber", "+1 555 0101",
				"memberUid", "bob")
			err := directory.ApplyChanges(s, e, tc.changes)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("ApplyChanges() = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyChanges(): %v", err)
			}
			for attr, want := range tc.want {
				if got := e.Get(attr); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", attr, got, want)
				}
			}
		})
	}
}

// TestApplyChanges_IncrementBadStoredValue: increment must refuse a stored
// value that is not an integer instead of computing garbage or panicking.
func TestApplyChanges_IncrementBadStoredValue(t *testing.T) {
	for _, stored := range []string{"", "abc", "-", "12a"} {
		t.Run(stored, func(t *testing.T) {
			e := directory.NewEntry(mustDN(t, "uid=a,dc=com"))
			e.Set("uidNumber", stored)
			err := directory.ApplyChanges(directory.Builtin(), e,
				[]directory.Change{{Op: directory.ChangeIncrement, Attr: "uidNumber", Values: []string{"1"}}})
			if !errors.Is(err, directory.ErrConstraintViolation) {
				t.Errorf("increment of %q = %v (now %q), want ErrConstraintViolation", stored, err, e.Get("uidNumber"))
			}
		})
	}
}

func TestEntry_Accessors(t *testing.T) {
	e := entry(t, "uid=a,dc=com", "CN", "x", "cn", "y", "sn", "z")
	if got := e.Get("cn"); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("Get(cn) = %q", got)
	}
	if e.First("Cn") != "x" || e.First("mail") != "" || !e.Has("SN") || e.Has("mail") {
		t.Error("First/Has do not fold case")
	}
	c := e.Clone()
	c.Attrs[0].Values[0] = "changed"
	c.Set("sn")
	if e.First("cn") != "x" || !e.Has("sn") {
		t.Error("Clone shares memory with the original")
	}
	if !e.HasValue(directory.Builtin(), "CN", "  X ") {
		t.Error("HasValue(CN, X) = false")
	}
	e.Delete("cn")
	if e.Has("cn") || len(e.Attrs) != 1 {
		t.Errorf("after Delete(cn): %+v", e.Attrs)
	}
}

func TestChangeOp_String(t *testing.T) {
	for op, want := range map[directory.ChangeOp]string{
		directory.ChangeAdd: "add", directory.ChangeDelete: "delete", directory.ChangeReplace: "replace",
		directory.ChangeIncrement: "increment", 9: "op(9)",
	} {
		if got := op.String(); got != want {
			t.Errorf("ChangeOp(%d).String() = %q, want %q", op, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	matched := mustDN(t, "dc=example,dc=com")
	err := directory.NoSuchObject(mustDN(t, "uid=a,ou=x,dc=example,dc=com"), matched)
	if !errors.Is(err, directory.ErrNoSuchObject) {
		t.Errorf("NoSuchObject() = %v, not ErrNoSuchObject", err)
	}
	if got, ok := directory.MatchedDN(err); !ok || !got.Equal(matched) {
		t.Errorf("MatchedDN() = %q, %v", got.String(), ok)
	}
	if _, ok := directory.MatchedDN(directory.ErrNoSuchObject); ok {
		t.Error("MatchedDN(bare sentinel) ok")
	}
	if directory.Message(err) == "" || directory.Message(errors.New("x")) != "" {
		t.Error("Message() wrong")
	}
	e := directory.Errorf(directory.ErrBusy, "")
	if e.Error() != directory.ErrBusy.Error() {
		t.Errorf("Errorf with no message = %q", e.Error())
	}
}
