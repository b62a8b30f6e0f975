package wire

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
)

// parse decodes b with go-asn1-ber, the reference, requiring that it is
// exactly one TLV.
func parse(t *testing.T, b []byte) *ber.Packet {
	t.Helper()
	p, err := ber.DecodePacketErr(b)
	if err != nil {
		t.Fatalf("go-asn1-ber cannot parse % x: %v", b, err)
	}
	if n := len(p.Bytes()); n != len(b) {
		t.Fatalf("go-asn1-ber read %d of %d octets", n, len(b))
	}
	return p
}

// checkTLV compares a reference packet's identifier with want.
func checkTLV(t *testing.T, p *ber.Packet, want byte, what string) {
	t.Helper()
	got := byte(p.ClassType) | byte(p.TagType) | byte(p.Tag)
	if got != want {
		t.Fatalf("%s: identifier 0x%02x, want 0x%02x", what, got, want)
	}
}

// children returns p's children, requiring n of them.
func children(t *testing.T, p *ber.Packet, n int, what string) []*ber.Packet {
	t.Helper()
	if len(p.Children) != n {
		t.Fatalf("%s: %d children, want %d", what, len(p.Children), n)
	}
	return p.Children
}

// envelope checks the LDAPMessage around a response and returns its
// protocolOp and controls element (nil if absent).
func envelope(t *testing.T, b []byte, id int64, op ResponseTag) (*ber.Packet, *ber.Packet) {
	t.Helper()
	p := parse(t, b)
	checkTLV(t, p, 0x30, "LDAPMessage")
	if len(p.Children) < 2 || len(p.Children) > 3 {
		t.Fatalf("LDAPMessage has %d children", len(p.Children))
	}
	if got := p.Children[0].Value; got != id {
		t.Fatalf("messageID %v, want %d", got, id)
	}
	checkTLV(t, p.Children[1], 0x60|byte(op), "protocolOp")
	var ctl *ber.Packet
	if len(p.Children) == 3 {
		ctl = p.Children[2]
		checkTLV(t, ctl, 0xa0, "controls")
	}
	return p.Children[1], ctl
}

// checkResult checks the LDAPResult components at the start of op.
func checkResult(t *testing.T, op *ber.Packet, r Result) {
	t.Helper()
	if len(op.Children) < 3 {
		t.Fatalf("LDAPResult has %d components", len(op.Children))
	}
	checkTLV(t, op.Children[0], 0x0a, "resultCode")
	if got := op.Children[0].Value; got != int64(r.Code) {
		t.Errorf("resultCode %v, want %d", got, r.Code)
	}
	if got := op.Children[1].Data.String(); got != r.MatchedDN {
		t.Errorf("matchedDN %q, want %q", got, r.MatchedDN)
	}
	if got := op.Children[2].Data.String(); got != r.Message {
		t.Errorf("diagnosticMessage %q, want %q", got, r.Message)
	}
	if len(r.Referral) > 0 {
		if len(op.Children) < 4 {
			t.Fatalf("referral missing")
		}
		checkTLV(t, op.Children[3], 0xa3, "referral")
		refs := children(t, op.Children[3], len(r.Referral), "referral")
		for i, u := range r.Referral {
			if got := refs[i].Data.String(); got != u {
				t.Errorf("referral %d: %q, want %q", i, got, u)
			}
		}
	}
}

func TestAppendResult(t *testing.T) {
	tags := []ResponseTag{ApplicationSearchResultDone, ApplicationModifyResponse, ApplicationAddResponse,
		ApplicationDelResponse, ApplicationModifyDNResponse, ApplicationCompareResponse}
	results := []Result{
		{},
		{Code: ResultNoSuchObject, MatchedDN: "dc=example,dc=com", Message: "entry uid=x,dc=example,dc=com does not exist"},
		{Code: ResultReferral, Referral: []string{"ldap://a.example.com/", "ldap://b.example.com/"}},
		{Code: ResultOther, Message: strings.Repeat("long ", 100)},
	}
	for _, tag := range tags {
		for i, r := range results {
			t.Run(fmt.Sprintf("%s/%d", tag, i), func(t *testing.T) {
				b := AppendResult(nil, 42, tag, r, nil)
				op, ctl := envelope(t, b, 42, tag)
				checkResult(t, op, r)
				if ctl != nil {
					t.Error("unexpected controls")
				}
			})
		}
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	prefix := []byte("prefix")
	b := AppendResult(append([]byte{}, prefix...), 1, ApplicationDelResponse, Result{Message: strings.Repeat("m", 300)}, nil)
	if !bytes.HasPrefix(b, prefix) {
		t.Fatalf("prefix lost: % x", b[:10])
	}
	envelope(t, b[len(prefix):], 1, ApplicationDelResponse)
}

func TestAppendControls(t *testing.T) {
	ctls := []Control{
		{OID: PagedResultsOID, Value: AppendPagedResults(nil, 0, []byte("cookie")), HasValue: true},
		{OID: "1.2.3", Critical: true},
		{OID: "1.2.4", Critical: true, Value: []byte{}, HasValue: true},
	}
	b := AppendResult(nil, 5, ApplicationSearchResultDone, Result{}, ctls)
	_, ctl := envelope(t, b, 5, ApplicationSearchResultDone)
	if ctl == nil {
		t.Fatal("controls missing")
	}
	got := children(t, ctl, 3, "controls")
	want := [][]string{
		{PagedResultsOID, "value"},
		{"1.2.3", "critical"},
		{"1.2.4", "critical", "value"},
	}
	for i, c := range got {
		checkTLV(t, c, 0x30, "control")
		if c.Children[0].Data.String() != want[i][0] {
			t.Errorf("control %d: OID %q", i, c.Children[0].Data.String())
		}
		if len(c.Children) != len(want[i]) {
			t.Fatalf("control %d: %d components, want %d", i, len(c.Children), len(want[i]))
		}
		for j, kind := range want[i][1:] {
			e := c.Children[j+1]
			switch kind {
			case "critical":
				checkTLV(t, e, 0x01, "criticality")
				if !bytes.Equal(e.Data.Bytes(), []byte{0xff}) {
					t.Errorf("criticality % x, want ff", e.Data.Bytes())
				}
			case "value":
				checkTLV(t, e, 0x04, "controlValue")
				if !bytes.Equal(e.Data.Bytes(), ctls[i].Value) {
					t.Errorf("control %d value % x, want % x", i, e.Data.Bytes(), ctls[i].Value)
				}
			}
		}
	}
}

func TestAppendBindResponse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		creds []byte
	}{
		{"no creds", nil},
		{"empty creds", []byte{}},
		{"creds", []byte("challenge")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{Code: ResultSASLBindInProgress}
			b := AppendBindResponse(nil, 1, r, tc.creds, nil)
			op, _ := envelope(t, b, 1, ApplicationBindResponse)
			checkResult(t, op, r)
			if tc.creds == nil {
				children(t, op, 3, "bindResponse")
				return
			}
			c := children(t, op, 4, "bindResponse")[3]
			checkTLV(t, c, 0x87, "serverSaslCreds")
			if !bytes.Equal(c.Data.Bytes(), tc.creds) {
				t.Errorf("serverSaslCreds % x, want % x", c.Data.Bytes(), tc.creds)
			}
		})
	}
}

func TestAppendSearchEntry(t *testing.T) {
	attrs := []Attribute{
		{Type: "objectClass", Values: []string{"top", "person", "inetOrgPerson"}},
		{Type: "cn", Values: []string{"John Doe"}},
		{Type: "jpegPhoto", Values: []string{strings.Repeat("\xff\xd8", 40000)}}, // three-octet lengths
		{Type: "description"}, // typesOnly style
	}
	b := AppendSearchEntry(nil, 9, "uid=jdoe,ou=people,dc=example,dc=com", attrs, nil)
	op, _ := envelope(t, b, 9, ApplicationSearchResultEntry)
	c := children(t, op, 2, "searchResEntry")
	if got := c[0].Data.String(); got != "uid=jdoe,ou=people,dc=example,dc=com" {
		t.Errorf("objectName %q", got)
	}
	checkTLV(t, c[1], 0x30, "attributes")
	list := children(t, c[1], len(attrs), "attributes")
	for i, a := range attrs {
		pa := children(t, list[i], 2, "PartialAttribute")
		if pa[0].Data.String() != a.Type {
			t.Errorf("attribute %d: type %q", i, pa[0].Data.String())
		}
		checkTLV(t, pa[1], 0x31, "vals")
		vals := children(t, pa[1], len(a.Values), "vals")
		for j, v := range a.Values {
			if vals[j].Data.String() != v {
				t.Errorf("attribute %d value %d differs", i, j)
			}
		}
	}
}

func TestAppendSearchReference(t *testing.T) {
	uris := []string{"ldap://a.example.com/dc=a", "ldap://b.example.com/dc=b"}
	b := AppendSearchReference(nil, 3, uris, nil)
	op, _ := envelope(t, b, 3, ApplicationSearchResultReference)
	for i, c := range children(t, op, 2, "searchResRef") {
		if c.Data.String() != uris[i] {
			t.Errorf("uri %d: %q", i, c.Data.String())
		}
	}
}

func TestAppendExtendedResponse(t *testing.T) {
	for _, tc := range []struct {
		name     string
		respName string
		value    []byte
		hasValue bool
		want     []byte // identifiers after the LDAPResult
	}{
		{"bare", "", nil, false, nil},
		{"name only", PasswordModifyOID, nil, false, []byte{0x8a}},
		{"value only", "", []byte("u:jdoe"), true, []byte{0x8b}},
		{"empty value", "", nil, true, []byte{0x8b}},
		{"both", "1.2.3", []byte{1, 2, 3}, true, []byte{0x8a, 0x8b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Result{Code: ResultSuccess}
			b := AppendExtendedResponse(nil, 7, r, tc.respName, tc.value, tc.hasValue, nil)
			op, _ := envelope(t, b, 7, ApplicationExtendedResponse)
			checkResult(t, op, r)
			rest := children(t, op, 3+len(tc.want), "extendedResp")[3:]
			for i, id := range tc.want {
				checkTLV(t, rest[i], id, "extension")
				switch id {
				case 0x8a:
					if rest[i].Data.String() != tc.respName {
						t.Errorf("responseName %q", rest[i].Data.String())
					}
				case 0x8b:
					if !bytes.Equal(rest[i].Data.Bytes(), tc.value) {
						t.Errorf("responseValue % x", rest[i].Data.Bytes())
					}
				}
			}
		})
	}
}

func TestAppendIntermediateResponse(t *testing.T) {
	b := AppendIntermediateResponse(nil, 4, "1.3.6.1.4.1.4203.1.9.1.4", []byte("v"), true, nil)
	op, _ := envelope(t, b, 4, ApplicationIntermediateResponse)
	c := children(t, op, 2, "intermediateResponse")
	checkTLV(t, c[0], 0x80, "responseName")
	checkTLV(t, c[1], 0x81, "responseValue")
	b = AppendIntermediateResponse(nil, 4, "", nil, false, nil)
	op, _ = envelope(t, b, 4, ApplicationIntermediateResponse)
	children(t, op, 0, "intermediateResponse")
}

func TestAppendNoticeOfDisconnection(t *testing.T) {
	b := AppendNoticeOfDisconnection(nil, ResultProtocolError, "malformed request")
	op, ctl := envelope(t, b, 0, ApplicationExtendedResponse)
	checkResult(t, op, Result{Code: ResultProtocolError, Message: "malformed request"})
	c := children(t, op, 4, "extendedResp")
	checkTLV(t, c[3], 0x8a, "responseName")
	if c[3].Data.String() != NoticeOfDisconnectionOID {
		t.Errorf("responseName %q", c[3].Data.String())
	}
	if ctl != nil {
		t.Error("unexpected controls")
	}
}

// TestAppendLengthBoundaries checks every length form against the
// reference decoder, across the boundaries between forms.
func TestAppendLengthBoundaries(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 129, 255, 256, 257, 65535, 65536, 65537, 1 << 24, 1<<24 + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := strings.Repeat("a", n)
			b := AppendSearchEntry(nil, 1, "", []Attribute{{Type: "a", Values: []string{s}}}, nil)
			op, _ := envelope(t, b, 1, ApplicationSearchResultEntry)
			v := op.Children[1].Children[0].Children[1].Children[0]
			if v.Data.Len() != n {
				t.Fatalf("value of %d octets decoded as %d", n, v.Data.Len())
			}
			// The length must be minimal: compare with the reference encoder.
			ref := ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s, "").Bytes()
			if !bytes.Contains(b, ref[:len(ref)-n]) {
				t.Errorf("header % x not found", ref[:len(ref)-n])
			}
		})
	}
}

// TestIntegerRoundTrip checks appendInt and parseInt against each other
// and against go-asn1-ber's encoder, at every byte-width boundary.
func TestIntegerRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769,
		1<<23 - 1, 1 << 23, -1 << 23, -1<<23 - 1, 1<<31 - 1, -1 << 31} {
		b := appendInt(nil, tagInteger, v)
		ref := ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, v, "").Bytes()
		if !bytes.Equal(b, ref) {
			t.Errorf("%d: encoded % x, go-asn1-ber % x", v, b, ref)
		}
		got, err := parseInt(b[2:], -1<<31, 1<<31-1, "v")
		if err != nil || got != v {
			t.Errorf("%d: decoded %d, %v", v, got, err)
		}
	}
}

func TestAppendSearchEntryAllocs(t *testing.T) {
	attrs := benchAttrs()
	buf := make([]byte, 0, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		buf = AppendSearchEntry(buf[:0], 2, "uid=jdoe,ou=people,dc=example,dc=com", attrs, nil)
	})
	if allocs != 0 {
		t.Errorf("AppendSearchEntry into a large enough buffer allocated %v times", allocs)
	}
}

// TestAppendSearchEntryDN checks that appending the DN in place encodes
// what AppendSearchEntry does with the DN's string, short and long form,
// and allocates nothing.
func TestAppendSearchEntryDN(t *testing.T) {
	attrs := benchAttrs()
	for _, dn := range []string{"", "uid=jdoe,ou=people,dc=example,dc=com", "cn=" + strings.Repeat("x", 300) + ",dc=example,dc=com"} {
		want := AppendSearchEntry(nil, 7, dn, attrs, nil)
		got := AppendSearchEntryDN(nil, 7, func(b []byte) []byte { return append(b, dn...) }, attrs, nil)
		if !bytes.Equal(got, want) {
			t.Errorf("DN of %d bytes: AppendSearchEntryDN\n% x\nAppendSearchEntry\n% x", len(dn), got, want)
		}
	}
	buf := make([]byte, 0, 4096)
	dn := []byte("uid=jdoe,ou=people,dc=example,dc=com")
	appendDN := func(b []byte) []byte { return append(b, dn...) }
	if allocs := testing.AllocsPerRun(100, func() { buf = AppendSearchEntryDN(buf[:0], 2, appendDN, attrs, nil) }); allocs != 0 {
		t.Errorf("AppendSearchEntryDN into a large enough buffer allocated %v times", allocs)
	}
}
