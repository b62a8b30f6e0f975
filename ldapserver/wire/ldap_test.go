package wire

// Differential tests against go-ldap and go-asn1-ber, the reference
// implementations. A real go-ldap client talks to the test over net.Pipe:
// the test reads each request with ReadPacket, decodes it with Decode and
// compares every field with what the client was asked to send, then
// answers with this package's encoders and checks that the client sees the
// same result, entries, controls and extended values.

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"reflect"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// pipe is a go-ldap client connected to the test through net.Pipe.
type pipe struct {
	t    *testing.T
	conn *ldap.Conn
	srv  net.Conn
	r    *bufio.Reader
	// packets collects every request read, as seeds for the fuzz tests.
	packets [][]byte
}

func newPipe(t *testing.T) *pipe {
	t.Helper()
	cli, srv := net.Pipe()
	conn := ldap.NewConn(cli, false)
	conn.Start()
	t.Cleanup(func() {
		conn.Close()
		srv.Close()
	})
	return &pipe{t: t, conn: conn, srv: srv, r: bufio.NewReader(srv)}
}

// read reads and decodes the next request.
func (p *pipe) read() *Message {
	p.t.Helper()
	raw, err := ReadPacket(p.r, 0)
	if err != nil {
		p.t.Fatalf("ReadPacket: %v", err)
	}
	p.packets = append(p.packets, raw)
	m, err := Decode(raw, Limits{})
	if err != nil {
		p.t.Fatalf("Decode(% x): %v", raw, err)
	}
	// Cross-check the framing with the reference decoder.
	if ref, err := ber.DecodePacketErr(raw); err != nil || len(ref.Bytes()) != len(raw) {
		p.t.Fatalf("go-asn1-ber disagrees on the framing: %v", err)
	}
	return m
}

// exchange runs call, a go-ldap client call, in a goroutine; reads and
// decodes the request it sends; lets serve check it and build the
// response; writes the response; and returns call's error.
func (p *pipe) exchange(call func() error, serve func(m *Message) []byte) error {
	p.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- call() }()
	resp := serve(p.read())
	if _, err := p.srv.Write(resp); err != nil {
		p.t.Fatalf("writing response: %v", err)
	}
	return <-errc
}

// wantMessage compares a decoded message with want, ignoring the ID (the
// client numbers messages) but checking that it is positive.
func wantMessage(t *testing.T, got *Message, want *Message) {
	t.Helper()
	if got.ID <= 0 {
		t.Errorf("messageID %d", got.ID)
	}
	want.ID = got.ID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %s\nwant %s", show(got), show(want))
	}
}

// refFilter converts a filter decoded by go-asn1-ber (the reference) to a
// Filter, the way Decode should.
func refFilter(t *testing.T, p *ber.Packet) *Filter {
	t.Helper()
	f := &Filter{Kind: FilterKind(p.Tag)}
	data := func(c *ber.Packet) string { return c.Data.String() }
	switch f.Kind {
	case FilterAnd, FilterOr, FilterNot:
		for _, c := range p.Children {
			f.Children = append(f.Children, refFilter(t, c))
		}
	case FilterEquality, FilterGreaterOrEqual, FilterLessOrEqual, FilterApprox:
		f.Attr, f.Value = data(p.Children[0]), data(p.Children[1])
	case FilterPresent:
		f.Attr = data(p)
	case FilterSubstrings:
		f.Attr = data(p.Children[0])
		for _, c := range p.Children[1].Children {
			switch c.Tag {
			case 0:
				f.Initial, f.HasInitial = data(c), true
			case 1:
				f.Any = append(f.Any, data(c))
			case 2:
				f.Final, f.HasFinal = data(c), true
			}
		}
	case FilterExtensible:
		for _, c := range p.Children {
			switch c.Tag {
			case 1:
				f.MatchingRule = data(c)
			case 2:
				f.Attr = data(c)
			case 3:
				f.Value = data(c)
			case 4:
				f.DNAttributes = c.Data.Len() == 1 && c.Data.Bytes()[0] != 0
			}
		}
	default:
		t.Fatalf("reference filter of unknown kind %d", p.Tag)
	}
	return f
}

// diffFilters are the filter strings the differential tests send.
var diffFilters = []string{
	"(&(objectClass=person)(|(uid=a*b*c)(cn~=x))(!(mail=*))(uidNumber>=10)(cn:caseExactMatch:=X)(:dn:2.5.13.5:=y))",
	"(objectClass=*)",
	"(uid=jdoe)",
	"(cn=*)",
	"(cn=J*)",
	"(cn=*oe)",
	"(cn=*o*)",
	"(cn=a*b*c*d*e)",
	"(uidNumber<=1000)",
	"(cn:dn:=John)",
	"(sn:2.5.13.3:=Doe)",
	"(|(cn=\\2a\\28\\29\\5c)(description=caf\u00e9))",
	"(&(!(|(a=1)(b=2)))(!(!(c=3))))",
	"(&)",
	"(|)",
}

func TestGoLDAPBind(t *testing.T) {
	p := newPipe(t)
	paging := ldap.NewControlPaging(0) // any control will do
	err := p.exchange(func() error {
		_, err := p.conn.SimpleBind(ldap.NewSimpleBindRequest("cn=admin,dc=example,dc=com", "s3cret", []ldap.Control{paging}))
		return err
	}, func(m *Message) []byte {
		wantMessage(t, m, &Message{
			Op:       &BindRequest{Version: 3, Name: "cn=admin,dc=example,dc=com", Simple: true, Password: []byte("s3cret")},
			Controls: []Control{{OID: PagedResultsOID, Value: seq(integer(0), ostr("")), HasValue: true}},
		})
		return AppendBindResponse(nil, m.ID, Result{}, nil, nil)
	})
	if err != nil {
		t.Fatalf("successful bind: %v", err)
	}

	err = p.exchange(func() error {
		return p.conn.Bind("uid=jdoe,dc=example,dc=com", "wrong")
	}, func(m *Message) []byte {
		return AppendBindResponse(nil, m.ID, Result{Code: ResultInvalidCredentials, Message: "invalid credentials"}, nil, nil)
	})
	checkLDAPError(t, err, ResultInvalidCredentials, "", "invalid credentials")

	err = p.exchange(func() error {
		return p.conn.UnauthenticatedBind("")
	}, func(m *Message) []byte {
		wantMessage(t, m, &Message{Op: &BindRequest{Version: 3, Simple: true, Password: []byte{}}})
		return AppendBindResponse(nil, m.ID, Result{}, nil, nil)
	})
	if err != nil {
		t.Fatalf("anonymous bind: %v", err)
	}
}

// checkLDAPError checks a go-ldap error against the result sent.
func checkLDAPError(t *testing.T, err error, code int, matched, message string) {
	t.Helper()
	var le *ldap.Error
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T), want *ldap.Error", err, err)
	}
	if int(le.ResultCode) != code || le.MatchedDN != matched || le.Err == nil || le.Err.Error() != message {
		t.Errorf("go-ldap saw code %d matchedDN %q message %v; sent %d %q %q", le.ResultCode, le.MatchedDN, le.Err, code, matched, message)
	}
}

func TestGoLDAPSearchFilters(t *testing.T) {
	p := newPipe(t)
	for _, fs := range diffFilters {
		t.Run(fs, func(t *testing.T) {
			p.t = t
			ref, err := ldap.CompileFilter(fs)
			if err != nil {
				t.Fatalf("CompileFilter: %v", err)
			}
			req := ldap.NewSearchRequest("ou=people,dc=example,dc=com", ldap.ScopeWholeSubtree, ldap.DerefAlways,
				500, 30, true, fs, []string{"cn", "mail", "+", "1.1"}, nil)
			err = p.exchange(func() error {
				_, err := p.conn.Search(req)
				return err
			}, func(m *Message) []byte {
				wantMessage(t, m, &Message{Op: &SearchRequest{
					BaseObject: "ou=people,dc=example,dc=com", Scope: 2, DerefAliases: 3, SizeLimit: 500, TimeLimit: 30, TypesOnly: true,
					Filter:     refFilter(t, ref),
					Attributes: []string{"cn", "mail", "+", "1.1"},
				}})
				// The string form must survive go-ldap's compiler.
				s := m.Op.(*SearchRequest).Filter.String()
				again, err := ldap.CompileFilter(s)
				if err != nil {
					t.Fatalf("go-ldap cannot compile our rendering %q: %v", s, err)
				}
				if !bytes.Equal(again.Bytes(), ref.Bytes()) {
					t.Errorf("rendering %q compiles differently from %q", s, fs)
				}
				return AppendResult(nil, m.ID, ApplicationSearchResultDone, Result{}, nil)
			})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
		})
	}
}

func TestGoLDAPSearchResults(t *testing.T) {
	p := newPipe(t)
	entries := []struct {
		dn    string
		attrs []Attribute
	}{
		{"uid=jdoe,ou=people,dc=example,dc=com", benchAttrs()},
		{"uid=empty,ou=people,dc=example,dc=com", nil},
		{"cn=types only,dc=example,dc=com", []Attribute{{Type: "cn"}, {Type: "mail"}}},
		{"cn=binary,dc=example,dc=com", []Attribute{{Type: "jpegPhoto", Values: []string{string(bytes.Repeat([]byte{0xff, 0xd8, 0}, 30000))}}}},
	}
	referrals := []string{"ldap://other.example.com/dc=other"}
	var res *ldap.SearchResult
	err := p.exchange(func() error {
		var err error
		res, err = p.conn.Search(ldap.NewSearchRequest("dc=example,dc=com", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", nil, nil))
		return err
	}, func(m *Message) []byte {
		var out []byte
		for _, e := range entries {
			out = AppendSearchEntry(out, m.ID, e.dn, e.attrs, nil)
		}
		out = AppendSearchReference(out, m.ID, referrals, nil)
		return AppendResult(out, m.ID, ApplicationSearchResultDone, Result{Message: "done"}, nil)
	})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(res.Entries) != len(entries) {
		t.Fatalf("go-ldap saw %d entries, want %d", len(res.Entries), len(entries))
	}
	for i, e := range entries {
		got := res.Entries[i]
		if got.DN != e.dn {
			t.Errorf("entry %d: DN %q, want %q", i, got.DN, e.dn)
		}
		if len(got.Attributes) != len(e.attrs) {
			t.Fatalf("entry %d: %d attributes, want %d", i, len(got.Attributes), len(e.attrs))
		}
		for j, a := range e.attrs {
			ga := got.Attributes[j]
			if ga.Name != a.Type || len(ga.Values) != len(a.Values) {
				t.Errorf("entry %d attribute %d: %q with %d values, want %q with %d", i, j, ga.Name, len(ga.Values), a.Type, len(a.Values))
				continue
			}
			for k, v := range a.Values {
				if ga.Values[k] != v {
					t.Errorf("entry %d attribute %s value %d differs", i, a.Type, k)
				}
			}
		}
	}
	if !reflect.DeepEqual(res.Referrals, referrals) {
		t.Errorf("referrals %q, want %q", res.Referrals, referrals)
	}

	// A failed search: go-ldap reports the code, matchedDN and message.
	err = p.exchange(func() error {
		_, err := p.conn.Search(ldap.NewSearchRequest("uid=x,ou=people,dc=example,dc=com", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", nil, nil))
		return err
	}, func(m *Message) []byte {
		return AppendResult(nil, m.ID, ApplicationSearchResultDone,
			Result{Code: ResultNoSuchObject, MatchedDN: "ou=people,dc=example,dc=com", Message: "no such entry"}, nil)
	})
	checkLDAPError(t, err, ResultNoSuchObject, "ou=people,dc=example,dc=com", "no such entry")
}

// TestGoLDAPPaging drives go-ldap's SearchWithPaging through two pages: the
// server decodes the client's paging control and answers with its own.
func TestGoLDAPPaging(t *testing.T) {
	p := newPipe(t)
	errc := make(chan error, 1)
	var res *ldap.SearchResult
	go func() {
		var err error
		res, err = p.conn.SearchWithPaging(ldap.NewSearchRequest("dc=example,dc=com", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", []string{"cn"}, nil), 2)
		errc <- err
	}()
	pages := []struct {
		wantCookie, sendCookie string
		dns                    []string
	}{
		{"", "page-2", []string{"cn=a,dc=example,dc=com", "cn=b,dc=example,dc=com"}},
		{"page-2", "", []string{"cn=c,dc=example,dc=com"}},
	}
	for i, pg := range pages {
		m := p.read()
		if len(m.Controls) != 1 || m.Controls[0].OID != PagedResultsOID || !m.Controls[0].HasValue {
			t.Fatalf("page %d: controls %s", i, show(m.Controls))
		}
		size, cookie, err := DecodePagedResults(m.Controls[0].Value)
		if err != nil {
			t.Fatalf("page %d: DecodePagedResults: %v", i, err)
		}
		if size != 2 || string(cookie) != pg.wantCookie {
			t.Errorf("page %d: size %d cookie %q, want 2 %q", i, size, cookie, pg.wantCookie)
		}
		var out []byte
		for _, dn := range pg.dns {
			out = AppendSearchEntry(out, m.ID, dn, []Attribute{{Type: "cn", Values: []string{dn[3:4]}}}, nil)
		}
		ctl := Control{OID: PagedResultsOID, Value: AppendPagedResults(nil, 3, []byte(pg.sendCookie)), HasValue: true}
		out = AppendResult(out, m.ID, ApplicationSearchResultDone, Result{}, []Control{ctl})
		if _, err := p.srv.Write(out); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("SearchWithPaging: %v", err)
	}
	var dns []string
	for _, e := range res.Entries {
		dns = append(dns, e.DN)
	}
	if want := []string{"cn=a,dc=example,dc=com", "cn=b,dc=example,dc=com", "cn=c,dc=example,dc=com"}; !reflect.DeepEqual(dns, want) {
		t.Errorf("entries %q, want %q", dns, want)
	}
	// go-ldap accumulates the response controls of every page.
	if len(res.Controls) != len(pages) {
		t.Fatalf("go-ldap saw %d response controls, want one per page", len(res.Controls))
	}
	for i, pg := range pages {
		pc, ok := res.Controls[i].(*ldap.ControlPaging)
		if !ok || pc.PagingSize != 3 || string(pc.Cookie) != pg.sendCookie {
			t.Errorf("page %d: go-ldap decoded the paging control as %v", i, res.Controls[i])
		}
	}
}

func TestGoLDAPWrites(t *testing.T) {
	p := newPipe(t)
	t.Run("modify", func(t *testing.T) {
		p.t = t
		req := ldap.NewModifyRequest("uid=jdoe,ou=people,dc=example,dc=com", []ldap.Control{ldap.NewControlManageDsaIT(true)})
		req.Add("mail", []string{"jdoe@example.com", "john@example.com"})
		req.Delete("description", nil)
		req.Delete("telephoneNumber", []string{"+1 555 0100"})
		req.Replace("cn", []string{"John Doe"})
		req.Increment("uidNumber", "1")
		err := p.exchange(func() error { return p.conn.Modify(req) }, func(m *Message) []byte {
			wantMessage(t, m, &Message{
				Op: &ModifyRequest{Object: "uid=jdoe,ou=people,dc=example,dc=com", Changes: []Change{
					{Op: ModAdd, Attr: "mail", Values: []string{"jdoe@example.com", "john@example.com"}},
					{Op: ModDelete, Attr: "description"},
					{Op: ModDelete, Attr: "telephoneNumber", Values: []string{"+1 555 0100"}},
					{Op: ModReplace, Attr: "cn", Values: []string{"John Doe"}},
					{Op: ModIncrement, Attr: "uidNumber", Values: []string{"1"}},
				}},
				Controls: []Control{{OID: "2.16.840.1.113730.3.4.2", Critical: true}},
			})
			return AppendResult(nil, m.ID, ApplicationModifyResponse, Result{}, nil)
		})
		if err != nil {
			t.Fatalf("Modify: %v", err)
		}
	})
	t.Run("add", func(t *testing.T) {
		p.t = t
		req := ldap.NewAddRequest("uid=new,ou=people,dc=example,dc=com", nil)
		req.Attribute("objectClass", []string{"top", "person", "inetOrgPerson"})
		req.Attribute("cn", []string{"New Person"})
		req.Attribute("sn", []string{"Person"})
		err := p.exchange(func() error { return p.conn.Add(req) }, func(m *Message) []byte {
			wantMessage(t, m, &Message{Op: &AddRequest{Entry: "uid=new,ou=people,dc=example,dc=com", Attributes: []Attribute{
				{Type: "objectClass", Values: []string{"top", "person", "inetOrgPerson"}},
				{Type: "cn", Values: []string{"New Person"}},
				{Type: "sn", Values: []string{"Person"}},
			}}})
			return AppendResult(nil, m.ID, ApplicationAddResponse,
				Result{Code: ResultEntryAlreadyExists, Message: "entry already exists"}, nil)
		})
		checkLDAPError(t, err, ResultEntryAlreadyExists, "", "entry already exists")
	})
	t.Run("delete", func(t *testing.T) {
		p.t = t
		err := p.exchange(func() error {
			return p.conn.Del(ldap.NewDelRequest("uid=old,ou=people,dc=example,dc=com", nil))
		}, func(m *Message) []byte {
			wantMessage(t, m, &Message{Op: &DelRequest{DN: "uid=old,ou=people,dc=example,dc=com"}})
			return AppendResult(nil, m.ID, ApplicationDelResponse, Result{}, nil)
		})
		if err != nil {
			t.Fatalf("Del: %v", err)
		}
	})
	t.Run("modify DN with new superior", func(t *testing.T) {
		p.t = t
		err := p.exchange(func() error {
			return p.conn.ModifyDN(ldap.NewModifyDNRequest("uid=a,ou=people,dc=example,dc=com", "uid=b", true, "ou=staff,dc=example,dc=com"))
		}, func(m *Message) []byte {
			wantMessage(t, m, &Message{Op: &ModifyDNRequest{Entry: "uid=a,ou=people,dc=example,dc=com", NewRDN: "uid=b",
				DeleteOldRDN: true, NewSuperior: "ou=staff,dc=example,dc=com", HasNewSuperior: true}})
			return AppendResult(nil, m.ID, ApplicationModifyDNResponse, Result{}, nil)
		})
		if err != nil {
			t.Fatalf("ModifyDN: %v", err)
		}
	})
	t.Run("modify DN in place", func(t *testing.T) {
		p.t = t
		err := p.exchange(func() error {
			return p.conn.ModifyDN(ldap.NewModifyDNRequest("uid=a,ou=people,dc=example,dc=com", "uid=b", false, ""))
		}, func(m *Message) []byte {
			wantMessage(t, m, &Message{Op: &ModifyDNRequest{Entry: "uid=a,ou=people,dc=example,dc=com", NewRDN: "uid=b"}})
			return AppendResult(nil, m.ID, ApplicationModifyDNResponse, Result{}, nil)
		})
		if err != nil {
			t.Fatalf("ModifyDN: %v", err)
		}
	})
	t.Run("compare", func(t *testing.T) {
		p.t = t
		for _, code := range []int{ResultCompareTrue, ResultCompareFalse} {
			var got bool
			err := p.exchange(func() error {
				var err error
				got, err = p.conn.Compare("uid=jdoe,dc=example,dc=com", "cn", "John Doe")
				return err
			}, func(m *Message) []byte {
				wantMessage(t, m, &Message{Op: &CompareRequest{Entry: "uid=jdoe,dc=example,dc=com", Attr: "cn", Value: "John Doe"}})
				return AppendResult(nil, m.ID, ApplicationCompareResponse, Result{Code: code}, nil)
			})
			if err != nil || got != (code == ResultCompareTrue) {
				t.Errorf("Compare answered %d: got %v, %v", code, got, err)
			}
		}
	})
}

func TestGoLDAPExtended(t *testing.T) {
	p := newPipe(t)
	t.Run("password modify", func(t *testing.T) {
		p.t = t
		var res *ldap.PasswordModifyResult
		err := p.exchange(func() error {
			var err error
			res, err = p.conn.PasswordModify(ldap.NewPasswordModifyRequest("uid=jdoe,dc=example,dc=com", "old", ""))
			return err
		}, func(m *Message) []byte {
			ext, ok := m.Op.(*ExtendedRequest)
			if !ok || ext.Name != PasswordModifyOID || !ext.HasValue {
				t.Fatalf("decoded %s", show(m))
			}
			pm, err := DecodePasswordModify(ext.Value)
			if err != nil {
				t.Fatalf("DecodePasswordModify: %v", err)
			}
			want := PasswordModify{UserIdentity: "uid=jdoe,dc=example,dc=com", HasUserIdentity: true, OldPassword: []byte("old"), HasOldPassword: true}
			if !reflect.DeepEqual(pm, want) {
				t.Errorf("decoded %+v, want %+v", pm, want)
			}
			return AppendExtendedResponse(nil, m.ID, Result{}, "", AppendPasswordModifyResponse(nil, []byte("generated")), true, nil)
		})
		if err != nil {
			t.Fatalf("PasswordModify: %v", err)
		}
		if res.GeneratedPassword != "generated" {
			t.Errorf("go-ldap saw generated password %q", res.GeneratedPassword)
		}
	})
	t.Run("password modify, all absent", func(t *testing.T) {
		p.t = t
		err := p.exchange(func() error {
			_, err := p.conn.PasswordModify(ldap.NewPasswordModifyRequest("", "", ""))
			return err
		}, func(m *Message) []byte {
			ext := m.Op.(*ExtendedRequest)
			pm, err := DecodePasswordModify(ext.Value)
			if err != nil || !reflect.DeepEqual(pm, PasswordModify{}) {
				t.Errorf("decoded %+v, %v", pm, err)
			}
			return AppendExtendedResponse(nil, m.ID, Result{Code: ResultUnwillingToPerform, Message: "no"}, "", nil, false, nil)
		})
		checkLDAPError(t, err, ResultUnwillingToPerform, "", "no")
	})
	t.Run("who am I", func(t *testing.T) {
		p.t = t
		var res *ldap.WhoAmIResult
		err := p.exchange(func() error {
			var err error
			res, err = p.conn.WhoAmI(nil)
			return err
		}, func(m *Message) []byte {
			wantMessage(t, m, &Message{Op: &ExtendedRequest{Name: WhoAmIOID}})
			return AppendExtendedResponse(nil, m.ID, Result{}, "", []byte("u:demo_service@idm.example.com"), true, nil)
		})
		if err != nil {
			t.Fatalf("WhoAmI: %v", err)
		}
		if res.AuthzID != "u:demo_service@idm.example.com" {
			t.Errorf("go-ldap saw authzId %q", res.AuthzID)
		}
	})
	t.Run("generate token", func(t *testing.T) {
		p.t = t
		const oid = "1.3.6.1.4.1.99999.1" // any OID: the value codec is under test
		// The value as a go-asn1-ber client (the admin CLI) builds it.
		v := ber.NewSequence("GenerateTokenRequestValue")
		v.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "uid=demo_service,dc=example,dc=com", ""))
		v.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "Test Token", ""))
		v.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "2020-09-25T11:22:02+10:00", ""))
		v.AppendChild(ber.NewBoolean(ber.ClassContext, ber.TypePrimitive, 1, true, ""))
		var res *ldap.ExtendedResponse
		err := p.exchange(func() error {
			var err error
			res, err = p.conn.Extended(ldap.NewExtendedRequest(oid, v))
			return err
		}, func(m *Message) []byte {
			ext := m.Op.(*ExtendedRequest)
			if ext.Name != oid || !ext.HasValue {
				t.Fatalf("decoded %s", show(m))
			}
			g, err := DecodeGenerateToken(ext.Value)
			if err != nil {
				t.Fatalf("DecodeGenerateToken: %v", err)
			}
			want := GenerateToken{Account: "uid=demo_service,dc=example,dc=com", Label: "Test Token",
				Expiry: "2020-09-25T11:22:02+10:00", HasExpiry: true, ReadWrite: true}
			if g != want {
				t.Errorf("decoded %+v, want %+v", g, want)
			}
			return AppendExtendedResponse(nil, m.ID, Result{}, oid, AppendGenerateTokenResponse(nil, "eyJhbGciOi.x.y", "4de2a4e9"), true, nil)
		})
		if err != nil {
			t.Fatalf("Extended: %v", err)
		}
		if res.Name != oid || res.Value == nil {
			t.Fatalf("go-ldap saw name %q value %v", res.Name, res.Value)
		}
		// The client side, as the admin CLI would read it.
		token, id, err := DecodeGenerateTokenResponse(res.Value.Data.Bytes())
		if err != nil || token != "eyJhbGciOi.x.y" || id != "4de2a4e9" {
			t.Errorf("DecodeGenerateTokenResponse: %q %q %v", token, id, err)
		}
		ref, err := ber.DecodePacketErr(res.Value.Data.Bytes())
		if err != nil || len(ref.Children) != 2 || ref.Children[0].Data.String() != "eyJhbGciOi.x.y" || ref.Children[1].Data.String() != "4de2a4e9" {
			t.Errorf("go-asn1-ber reads the response value as %v, %v", ref, err)
		}
	})
}

func TestGoLDAPUnbind(t *testing.T) {
	p := newPipe(t)
	errc := make(chan error, 1)
	go func() { errc <- p.conn.Unbind() }()
	m := p.read()
	wantMessage(t, m, &Message{Op: &UnbindRequest{}})
	if err := <-errc; err != nil {
		t.Fatalf("Unbind: %v", err)
	}
}

// TestASN1BERAbandon covers abandon, which go-ldap cannot send, with a
// packet built by go-asn1-ber.
func TestASN1BERAbandon(t *testing.T) {
	env := ber.NewSequence("")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 9, ""))
	env.AppendChild(ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationAbandonRequest, 4, ""))
	m, err := Decode(env.Bytes(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (&Message{ID: 9, Op: &AbandonRequest{ID: 4}}); !reflect.DeepEqual(m, want) {
		t.Errorf("decoded %s", show(m))
	}
}
