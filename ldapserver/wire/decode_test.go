package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// show renders a Message for failure output.
func show(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestDecode(t *testing.T) {
	simplePw := []byte("secret")
	tests := []struct {
		name string
		in   []byte
		want *Message
	}{
		{
			name: "bind simple",
			in:   msg(1, tlv(0x60, integer(3), ostr("cn=admin,dc=example,dc=com"), prim(0x80, "secret"))),
			want: &Message{ID: 1, Op: &BindRequest{Version: 3, Name: "cn=admin,dc=example,dc=com", Simple: true, Password: simplePw}},
		},
		{
			name: "bind anonymous",
			in:   msg(1, tlv(0x60, integer(3), ostr(""), prim(0x80, ""))),
			want: &Message{ID: 1, Op: &BindRequest{Version: 3, Simple: true, Password: []byte{}}},
		},
		{
			name: "bind SASL without credentials",
			in:   msg(2, tlv(0x60, integer(3), ostr(""), tlv(0xa3, ostr("EXTERNAL")))),
			want: &Message{ID: 2, Op: &BindRequest{Version: 3, SASLMechanism: "EXTERNAL"}},
		},
		{
			name: "bind SASL with credentials",
			in:   msg(2, tlv(0x60, integer(3), ostr(""), tlv(0xa3, ostr("PLAIN"), ostr("\x00u\x00p")))),
			want: &Message{ID: 2, Op: &BindRequest{Version: 3, SASLMechanism: "PLAIN", SASLCredentials: []byte("\x00u\x00p"), HasSASLCredentials: true}},
		},
		{
			name: "bind version 2 decodes (server rejects)",
			in:   msg(1, tlv(0x60, integer(2), ostr(""), prim(0x80, ""))),
			want: &Message{ID: 1, Op: &BindRequest{Version: 2, Simple: true, Password: []byte{}}},
		},
		{
			name: "unbind",
			in:   msg(7, []byte{0x42, 0x00}),
			want: &Message{ID: 7, Op: &UnbindRequest{}},
		},
		{
			name: "search",
			in: msg(3, tlv(0x63, ostr("ou=people,dc=example,dc=com"), enum(1), enum(3), integer(100), integer(30), boolean(true),
				eq("uid", "jdoe"), seq(ostr("cn"), ostr("mail")))),
			want: &Message{ID: 3, Op: &SearchRequest{
				BaseObject: "ou=people,dc=example,dc=com", Scope: 1, DerefAliases: 3, SizeLimit: 100, TimeLimit: 30, TypesOnly: true,
				Filter:     &Filter{Kind: FilterEquality, Attr: "uid", Value: "jdoe"},
				Attributes: []string{"cn", "mail"},
			}},
		},
		{
			name: "search subordinate scope, no attributes, max limits",
			in:   msg(4, tlv(0x63, ostr(""), enum(3), enum(0), integer(maxInt), integer(maxInt), boolean(false), present("objectClass"), seq())),
			want: &Message{ID: 4, Op: &SearchRequest{Scope: 3, SizeLimit: maxInt, TimeLimit: maxInt, Filter: &Filter{Kind: FilterPresent, Attr: "objectClass"}}},
		},
		{
			name: "search with controls",
			in: msg(5, searchOp(present("cn")), controls(
				control(PagedResultsOID, true, seq(integer(50), ostr(""))),
				control("2.16.840.1.113730.3.4.2", false, nil),
			)),
			want: &Message{ID: 5, Op: &SearchRequest{BaseObject: "dc=example,dc=com", Scope: 2, Filter: &Filter{Kind: FilterPresent, Attr: "cn"}},
				Controls: []Control{
					{OID: PagedResultsOID, Critical: true, Value: seq(integer(50), ostr("")), HasValue: true},
					{OID: "2.16.840.1.113730.3.4.2"},
				}},
		},
		{
			name: "empty controls sequence",
			in:   msg(5, searchOp(present("cn")), controls()),
			want: &Message{ID: 5, Op: &SearchRequest{BaseObject: "dc=example,dc=com", Scope: 2, Filter: &Filter{Kind: FilterPresent, Attr: "cn"}}},
		},
		{
			name: "control with explicit FALSE criticality and empty value",
			in:   msg(5, searchOp(present("cn")), controls(seq(ostr("1.2.3"), boolean(false), ostr("")))),
			want: &Message{ID: 5, Op: &SearchRequest{BaseObject: "dc=example,dc=com", Scope: 2, Filter: &Filter{Kind: FilterPresent, Attr: "cn"}},
				Controls: []Control{{OID: "1.2.3", Value: []byte{}, HasValue: true}}},
		},
		{
			name: "modify",
			in: msg(6, tlv(0x66, ostr("uid=jdoe,dc=example,dc=com"), seq(
				seq(enum(0), seq(ostr("mail"), set(ostr("a@example.com"), ostr("b@example.com")))),
				seq(enum(1), seq(ostr("description"), set())),
				seq(enum(2), seq(ostr("cn"), set(ostr("John Doe")))),
				seq(enum(3), seq(ostr("uidNumber"), set(ostr("1")))),
			))),
			want: &Message{ID: 6, Op: &ModifyRequest{Object: "uid=jdoe,dc=example,dc=com", Changes: []Change{
				{Op: ModAdd, Attr: "mail", Values: []string{"a@example.com", "b@example.com"}},
				{Op: ModDelete, Attr: "description"},
				{Op: ModReplace, Attr: "cn", Values: []string{"John Doe"}},
				{Op: ModIncrement, Attr: "uidNumber", Values: []string{"1"}},
			}}},
		},
		{
			name: "modify with no changes",
			in:   msg(6, tlv(0x66, ostr("uid=jdoe"), seq())),
			want: &Message{ID: 6, Op: &ModifyRequest{Object: "uid=jdoe"}},
		},
		{
			name: "add",
			in: msg(8, tlv(0x68, ostr("uid=new,dc=example,dc=com"), seq(
				seq(ostr("objectClass"), set(ostr("top"), ostr("person"))),
				seq(ostr("cn"), set(ostr("New"))),
			))),
			want: &Message{ID: 8, Op: &AddRequest{Entry: "uid=new,dc=example,dc=com", Attributes: []Attribute{
				{Type: "objectClass", Values: []string{"top", "person"}},
				{Type: "cn", Values: []string{"New"}},
			}}},
		},
		{
			name: "del",
			in:   msg(10, prim(0x4a, "uid=old,dc=example,dc=com")),
			want: &Message{ID: 10, Op: &DelRequest{DN: "uid=old,dc=example,dc=com"}},
		},
		{
			name: "modify DN with new superior",
			in:   msg(12, tlv(0x6c, ostr("uid=a,ou=x"), ostr("uid=b"), boolean(true), prim(0x80, "ou=y"))),
			want: &Message{ID: 12, Op: &ModifyDNRequest{Entry: "uid=a,ou=x", NewRDN: "uid=b", DeleteOldRDN: true, NewSuperior: "ou=y", HasNewSuperior: true}},
		},
		{
			name: "modify DN without new superior, BOOLEAN 0x01",
			in:   msg(12, tlv(0x6c, ostr("uid=a,ou=x"), ostr("uid=b"), []byte{0x01, 0x01, 0x01})),
			want: &Message{ID: 12, Op: &ModifyDNRequest{Entry: "uid=a,ou=x", NewRDN: "uid=b", DeleteOldRDN: true}},
		},
		{
			name: "compare",
			in:   msg(14, tlv(0x6e, ostr("uid=a"), seq(ostr("cn"), ostr("A")))),
			want: &Message{ID: 14, Op: &CompareRequest{Entry: "uid=a", Attr: "cn", Value: "A"}},
		},
		{
			name: "abandon",
			in:   msg(16, intTLV(0x50, 3)),
			want: &Message{ID: 16, Op: &AbandonRequest{ID: 3}},
		},
		{
			name: "extended without value",
			in:   msg(23, tlv(0x77, prim(0x80, WhoAmIOID))),
			want: &Message{ID: 23, Op: &ExtendedRequest{Name: WhoAmIOID}},
		},
		{
			name: "extended with value",
			in:   msg(23, tlv(0x77, prim(0x80, PasswordModifyOID), tlv(0x81, seq(prim(0x82, "new"))))),
			want: &Message{ID: 23, Op: &ExtendedRequest{Name: PasswordModifyOID, Value: seq(prim(0x82, "new")), HasValue: true}},
		},
		{
			name: "message ID 0 and 2^31-1",
			in:   msg(maxInt, tlv(0x77, prim(0x80, "1.2"))),
			want: &Message{ID: maxInt, Op: &ExtendedRequest{Name: "1.2"}},
		},
		{
			name: "non-minimal long-form lengths",
			in: []byte{0x30, 0x84, 0, 0, 0, 0x0c,
				0x02, 0x01, 0x09,
				0x4a, 0x84, 0, 0, 0, 0x03, 'c', '=', 'x'},
			want: &Message{ID: 9, Op: &DelRequest{DN: "c=x"}},
		},
		{
			name: "trailing unknown components are ignored",
			in: msg(3, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq(), prim(0x85, "ext")),
				controls(), prim(0x9f-0x10, "future")),
			want: &Message{ID: 3, Op: &SearchRequest{Filter: &Filter{Kind: FilterPresent, Attr: "cn"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s\nwant %s", show(got), show(tc.want))
			}
			// Op.Tag reports the protocolOp's tag number.
			c := newCursor(tc.in)
			env, _ := c.next()
			c = c.inside(env)
			c.next()
			op, _ := c.next()
			if got.Op.Tag() != RequestTag(op.tag&tagNumberMask) {
				t.Errorf("Op.Tag() = %v, protocolOp identifier 0x%02x", got.Op.Tag(), op.tag)
			}
		})
	}
}

func TestTagStrings(t *testing.T) {
	seen := map[string]bool{}
	for n := range 32 {
		for _, s := range []string{RequestTag(n).String(), ResponseTag(n).String()} {
			if strings.HasPrefix(s, "protocolOp(") {
				continue
			}
			if seen[s] {
				t.Errorf("tag name %q used twice", s)
			}
			seen[s] = true
		}
	}
	if s := RequestTag(30).String(); s != "protocolOp(30)" {
		t.Errorf("unknown request tag renders %q", s)
	}
	for _, tc := range []struct {
		got, want string
	}{
		{ApplicationSearchRequest.String(), "searchRequest"},
		{ApplicationExtendedRequest.String(), "extendedReq"},
		{ApplicationSearchResultDone.String(), "searchResDone"},
		{ApplicationIntermediateResponse.String(), "intermediateResponse"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestDecodeDoesNotRetainPacket checks the ownership rule in the package
// Caveats: the caller may overwrite the packet after Decode.
func TestDecodeDoesNotRetainPacket(t *testing.T) {
	in := msg(1, tlv(0x60, integer(3), ostr("cn=admin"), prim(0x80, "secret")))
	m, err := Decode(in, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = 'X'
	}
	b := m.Op.(*BindRequest)
	if b.Name != "cn=admin" || string(b.Password) != "secret" {
		t.Fatalf("decoded fields changed with the packet: %q %q", b.Name, b.Password)
	}
	// Scrubbing the password must not disturb any string.
	clear(b.Password)
	if b.Name != "cn=admin" {
		t.Fatalf("name changed when the password was scrubbed: %q", b.Name)
	}
}

func TestDecodeMalformed(t *testing.T) {
	okSearch := searchOp(present("cn"))
	tests := []struct {
		name string
		in   []byte
		// want is the sentinel the error must wrap.
		want error
		// decodeErr, if set, requires a *DecodeError with this tag and ID 1.
		decodeErr bool
		tag       RequestTag
	}{
		{name: "empty", in: nil, want: ErrMalformed},
		{name: "truncated", in: msg(1, okSearch)[:20], want: ErrMalformed},
		{name: "huge length", in: []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, want: ErrMalformed},
		{name: "huge length with four 0xff", in: []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02}, want: ErrMalformed},
		{name: "indefinite length", in: []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x42, 0x00, 0x00, 0x00}, want: ErrMalformed},
		{name: "five length octets", in: []byte{0x30, 0x85, 0, 0, 0, 0, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00}, want: ErrMalformed},
		{name: "length octets missing", in: []byte{0x30, 0x82, 0x01}, want: ErrMalformed},
		{name: "trailing bytes after message", in: append(msg(1, []byte{0x42, 0x00}), 0x00), want: ErrMalformed},
		{name: "wrong envelope tag", in: tlv(0x31, integer(1), []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "high tag number", in: []byte{0x3f, 0x01, 0x02, 0x00}, want: ErrMalformed},
		{name: "missing message ID", in: seq(), want: ErrMalformed},
		{name: "id of wrong type", in: seq(ostr("1"), []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "id as enumerated", in: seq(enum(1), []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "negative id", in: msg(-1, []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "id 2^31", in: msg(1<<31, []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "empty id", in: seq([]byte{0x02, 0x00}, []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "non-minimal id", in: seq([]byte{0x02, 0x02, 0x00, 0x01}, []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "non-minimal negative id", in: seq([]byte{0x02, 0x02, 0xff, 0x80}, []byte{0x42, 0x00}), want: ErrMalformed},
		{name: "missing protocolOp", in: seq(integer(1)), want: ErrMalformed},
		{name: "protocolOp overruns envelope", in: seq(integer(1), []byte{0x4a, 0x05, 'a'}), want: ErrMalformed},

		{name: "unknown protocolOp", in: msg(1, tlv(0x7e)), want: ErrMalformed, decodeErr: true, tag: 30},
		{name: "response sent as request", in: msg(1, tlv(0x61, enum(0), ostr(""), ostr(""))), want: ErrMalformed, decodeErr: true, tag: 1},
		{name: "context-class protocolOp", in: msg(1, tlv(0xa3)), want: ErrMalformed, decodeErr: true, tag: 3},
		{name: "del constructed", in: msg(1, tlv(0x6a, ostr("x"))), want: ErrMalformed, decodeErr: true, tag: ApplicationDelRequest},
		{name: "search primitive", in: msg(1, prim(0x43, "x")), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "unbind with contents", in: msg(1, prim(0x42, "x")), want: ErrMalformed, decodeErr: true, tag: ApplicationUnbindRequest},

		{name: "bind version 0", in: msg(1, tlv(0x60, integer(0), ostr(""), prim(0x80, ""))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind version 128", in: msg(1, tlv(0x60, integer(128), ostr(""), prim(0x80, ""))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind unknown auth choice", in: msg(1, tlv(0x60, integer(3), ostr(""), prim(0x89, "ntlm"))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind constructed password", in: msg(1, tlv(0x60, integer(3), ostr(""), tlv(0xa0, ostr("pw")))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind missing authentication", in: msg(1, tlv(0x60, integer(3), ostr(""))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind SASL duplicate credentials", in: msg(1, tlv(0x60, integer(3), ostr(""), tlv(0xa3, ostr("PLAIN"), ostr("a"), ostr("b")))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},
		{name: "bind name constructed string", in: msg(1, tlv(0x60, integer(3), tlv(0x24, ostr("cn=x")), prim(0x80, ""))), want: ErrMalformed, decodeErr: true, tag: ApplicationBindRequest},

		{name: "search scope 4", in: msg(1, tlv(0x63, ostr(""), enum(4), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search deref 4", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(4), integer(0), integer(0), boolean(false), present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search negative size limit", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(-1), integer(0), boolean(false), present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search scope as integer", in: msg(1, tlv(0x63, ostr(""), integer(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search two-octet boolean", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), []byte{0x01, 0x02, 0xff, 0xff}, present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search empty boolean", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), []byte{0x01, 0x00}, present("cn"), seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search attribute of wrong type", in: msg(1, searchOpRaw(present("cn"), seq(ostr("cn"), integer(1)))), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search attributes missing", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"))), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search trailing garbage", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), seq(), []byte{0x00})), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "search element overruns parent", in: msg(1, tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), boolean(false), present("cn"), []byte{0x30, 0x10, 0x04, 0x00})), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},

		{name: "modify operation 4", in: msg(1, tlv(0x66, ostr("x"), seq(seq(enum(4), seq(ostr("cn"), set()))))), want: ErrMalformed, decodeErr: true, tag: ApplicationModifyRequest},
		{name: "modify values as SEQUENCE", in: msg(1, tlv(0x66, ostr("x"), seq(seq(enum(0), seq(ostr("cn"), seq(ostr("a"))))))), want: ErrMalformed, decodeErr: true, tag: ApplicationModifyRequest},
		{name: "modify change not a SEQUENCE", in: msg(1, tlv(0x66, ostr("x"), seq(set(enum(0), seq(ostr("cn"), set()))))), want: ErrMalformed, decodeErr: true, tag: ApplicationModifyRequest},
		{name: "add attribute without values", in: msg(1, tlv(0x68, ostr("x"), seq(seq(ostr("cn"), set())))), want: ErrMalformed, decodeErr: true, tag: ApplicationAddRequest},
		{name: "add value of wrong type", in: msg(1, tlv(0x68, ostr("x"), seq(seq(ostr("cn"), set(integer(1)))))), want: ErrMalformed, decodeErr: true, tag: ApplicationAddRequest},
		{name: "compare missing ava", in: msg(1, tlv(0x6e, ostr("x"))), want: ErrMalformed, decodeErr: true, tag: ApplicationCompareRequest},
		{name: "compare ava missing value", in: msg(1, tlv(0x6e, ostr("x"), seq(ostr("cn")))), want: ErrMalformed, decodeErr: true, tag: ApplicationCompareRequest},
		{name: "moddn duplicate new superior", in: msg(1, tlv(0x6c, ostr("a"), ostr("b"), boolean(false), prim(0x80, "c"), prim(0x80, "d"))), want: ErrMalformed, decodeErr: true, tag: ApplicationModifyDNRequest},
		{name: "moddn missing deleteoldrdn", in: msg(1, tlv(0x6c, ostr("a"), ostr("b"))), want: ErrMalformed, decodeErr: true, tag: ApplicationModifyDNRequest},
		{name: "extended name as OCTET STRING", in: msg(1, tlv(0x77, ostr("1.2.3"))), want: ErrMalformed, decodeErr: true, tag: ApplicationExtendedRequest},
		{name: "extended value before name", in: msg(1, tlv(0x77, prim(0x81, "v"), prim(0x80, "1.2"))), want: ErrMalformed, decodeErr: true, tag: ApplicationExtendedRequest},
		{name: "abandon negative", in: msg(1, intTLV(0x50, -5)), want: ErrMalformed, decodeErr: true, tag: ApplicationAbandonRequest},
		{name: "abandon empty", in: msg(1, prim(0x50, "")), want: ErrMalformed, decodeErr: true, tag: ApplicationAbandonRequest},

		{name: "controls not a SEQUENCE OF SEQUENCE", in: msg(1, okSearch, controls(ostr("1.2"))), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "control criticality two octets", in: msg(1, okSearch, controls(seq(ostr("1.2"), []byte{0x01, 0x02, 0, 0}))), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "control missing type", in: msg(1, okSearch, controls(seq())), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "control duplicate value", in: msg(1, okSearch, controls(seq(ostr("1.2"), ostr("a"), ostr("b")))), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "duplicate controls", in: msg(1, okSearch, controls(), controls()), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "controls primitive", in: msg(1, okSearch, prim(0x80, "")), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
		{name: "envelope trailing garbage", in: msg(1, okSearch, []byte{0xff}), want: ErrMalformed, decodeErr: true, tag: ApplicationSearchRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(tc.in, Limits{})
			if err == nil {
				t.Fatalf("Decode succeeded: %s", show(m))
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %q", err, tc.want)
			}
			var de *DecodeError
			if got := errors.As(err, &de); got != tc.decodeErr {
				t.Fatalf("errors.As(*DecodeError) = %v, want %v (error %q)", got, tc.decodeErr, err)
			}
			if de != nil && (de.ID != 1 || de.Tag != tc.tag) {
				t.Errorf("DecodeError ID %d tag %d, want 1 and %d", de.ID, de.Tag, tc.tag)
			}
		})
	}
}

// searchOpRaw is a searchRequest with the given filter and raw attribute
// selection element.
func searchOpRaw(filter, attrs []byte) []byte {
	return tlv(0x63, ostr(""), enum(0), enum(0), integer(0), integer(0), boolean(false), filter, attrs)
}

func TestDecodeLimits(t *testing.T) {
	attrs := func(n int) []byte { return seq(slices.Repeat([][]byte{ostr("cn")}, n)...) }
	values := func(n int) []byte { return set(slices.Repeat([][]byte{ostr("v")}, n)...) }
	ctls := func(n int) []byte { return controls(slices.Repeat([][]byte{control("1.2", false, nil)}, n)...) }
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		ok   bool
	}{
		{name: "attributes at default limit", in: msg(1, searchOpRaw(present("cn"), attrs(DefaultMaxAttributes))), ok: true},
		{name: "attributes over default limit", in: msg(1, searchOpRaw(present("cn"), attrs(DefaultMaxAttributes+1)))},
		{name: "attributes over custom limit", in: msg(1, searchOpRaw(present("cn"), attrs(3))), lim: Limits{MaxAttributes: 2}},
		{name: "add attributes over limit", in: msg(1, tlv(0x68, ostr("x"), seq(seq(ostr("a"), values(1)), seq(ostr("b"), values(1))))), lim: Limits{MaxAttributes: 1}},
		{name: "add values over limit", in: msg(1, tlv(0x68, ostr("x"), seq(seq(ostr("a"), values(2)), seq(ostr("b"), values(2))))), lim: Limits{MaxValues: 3}},
		{name: "add values at limit", in: msg(1, tlv(0x68, ostr("x"), seq(seq(ostr("a"), values(2)), seq(ostr("b"), values(2))))), lim: Limits{MaxValues: 4}, ok: true},
		{name: "modify changes over limit", in: msg(1, tlv(0x66, ostr("x"), seq(seq(enum(0), seq(ostr("a"), values(1))), seq(enum(0), seq(ostr("b"), values(1)))))), lim: Limits{MaxAttributes: 1}},
		{name: "modify values over limit", in: msg(1, tlv(0x66, ostr("x"), seq(seq(enum(0), seq(ostr("a"), values(5)))))), lim: Limits{MaxValues: 4}},
		{name: "controls over limit", in: msg(1, searchOp(present("cn")), ctls(3)), lim: Limits{MaxControls: 2}},
		{name: "controls at limit", in: msg(1, searchOp(present("cn")), ctls(2)), lim: Limits{MaxControls: 2}, ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in, tc.lim)
			if tc.ok {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrLimitExceeded) {
				t.Fatalf("error %v, want ErrLimitExceeded", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.ID != 1 {
				t.Errorf("error %v is not a *DecodeError for message 1", err)
			}
		})
	}
}

func TestDecodeErrorResponseTag(t *testing.T) {
	tests := []struct {
		tag  RequestTag
		want ResponseTag
		ok   bool
	}{
		{ApplicationBindRequest, ApplicationBindResponse, true},
		{ApplicationSearchRequest, ApplicationSearchResultDone, true},
		{ApplicationModifyRequest, ApplicationModifyResponse, true},
		{ApplicationAddRequest, ApplicationAddResponse, true},
		{ApplicationDelRequest, ApplicationDelResponse, true},
		{ApplicationModifyDNRequest, ApplicationModifyDNResponse, true},
		{ApplicationCompareRequest, ApplicationCompareResponse, true},
		{ApplicationExtendedRequest, ApplicationExtendedResponse, true},
		{ApplicationUnbindRequest, 0, false},
		{ApplicationAbandonRequest, 0, false},
		{30, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.tag.String(), func(t *testing.T) {
			e := &DecodeError{ID: 1, Tag: tc.tag, Err: ErrMalformed}
			got, ok := e.ResponseTag()
			if got != tc.want || ok != tc.ok {
				t.Errorf("ResponseTag() = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}
