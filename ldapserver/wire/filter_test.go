package wire

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// decodeFilter decodes f as the filter of a search request.
func decodeFilter(f []byte, lim Limits) (*Filter, error) {
	m, err := Decode(msg(1, searchOp(f)), lim)
	if err != nil {
		return nil, err
	}
	return m.Op.(*SearchRequest).Filter, nil
}

// nested wraps inner in depth constructed TLVs with identifier tag, in
// linear time (building it with tlv would copy quadratically).
func nested(tag byte, depth int, inner []byte) []byte {
	lens := make([]int, depth+1) // lens[i]: length of the TLV at level i from the inside
	lens[0] = len(inner)
	for i := 1; i <= depth; i++ {
		lens[i] = 1 + len(berLen(lens[i-1])) + lens[i-1]
	}
	out := make([]byte, 0, lens[depth])
	for i := depth; i >= 1; i-- {
		out = append(out, tag)
		out = append(out, berLen(lens[i-1])...)
	}
	return append(out, inner...)
}

func TestDecodeFilter(t *testing.T) {
	sub := func(attr string, parts ...[]byte) []byte { return tlv(0xa4, ostr(attr), seq(parts...)) }
	tests := []struct {
		name string
		in   []byte
		want *Filter
		str  string
	}{
		{
			name: "equality",
			in:   eq("uid", "jdoe"),
			want: &Filter{Kind: FilterEquality, Attr: "uid", Value: "jdoe"},
			str:  "(uid=jdoe)",
		},
		{
			name: "empty and (absolute true)",
			in:   and(),
			want: &Filter{Kind: FilterAnd},
			str:  "(&)",
		},
		{
			name: "empty or (absolute false)",
			in:   or(),
			want: &Filter{Kind: FilterOr},
			str:  "(|)",
		},
		{
			name: "nested and/or/not",
			in:   and(eq("objectClass", "person"), or(present("mail"), not(eq("cn", "x")))),
			want: &Filter{Kind: FilterAnd, Children: []*Filter{
				{Kind: FilterEquality, Attr: "objectClass", Value: "person"},
				{Kind: FilterOr, Children: []*Filter{
					{Kind: FilterPresent, Attr: "mail"},
					{Kind: FilterNot, Children: []*Filter{{Kind: FilterEquality, Attr: "cn", Value: "x"}}},
				}},
			}},
			str: "(&(objectClass=person)(|(mail=*)(!(cn=x))))",
		},
		{
			name: "ordering and approx",
			in:   and(tlv(0xa5, ostr("n"), ostr("10")), tlv(0xa6, ostr("n"), ostr("20")), tlv(0xa8, ostr("cn"), ostr("jon"))),
			want: &Filter{Kind: FilterAnd, Children: []*Filter{
				{Kind: FilterGreaterOrEqual, Attr: "n", Value: "10"},
				{Kind: FilterLessOrEqual, Attr: "n", Value: "20"},
				{Kind: FilterApprox, Attr: "cn", Value: "jon"},
			}},
			str: "(&(n>=10)(n<=20)(cn~=jon))",
		},
		{
			name: "substrings all parts",
			in:   sub("cn", prim(0x80, "a"), prim(0x81, "b"), prim(0x81, "c"), prim(0x82, "d")),
			want: &Filter{Kind: FilterSubstrings, Attr: "cn", Initial: "a", HasInitial: true, Any: []string{"b", "c"}, Final: "d", HasFinal: true},
			str:  "(cn=a*b*c*d)",
		},
		{
			name: "substrings any only",
			in:   sub("cn", prim(0x81, "b")),
			want: &Filter{Kind: FilterSubstrings, Attr: "cn", Any: []string{"b"}},
			str:  "(cn=*b*)",
		},
		{
			name: "substrings final only, empty initial",
			in:   sub("cn", prim(0x80, ""), prim(0x82, "z")),
			want: &Filter{Kind: FilterSubstrings, Attr: "cn", HasInitial: true, Final: "z", HasFinal: true},
			str:  "(cn=*z)",
		},
		{
			name: "two substring filters share the any slab",
			in:   or(sub("a", prim(0x81, "1"), prim(0x81, "2")), sub("b", prim(0x81, "3"))),
			want: &Filter{Kind: FilterOr, Children: []*Filter{
				{Kind: FilterSubstrings, Attr: "a", Any: []string{"1", "2"}},
				{Kind: FilterSubstrings, Attr: "b", Any: []string{"3"}},
			}},
			str: "(|(a=*1*2*)(b=*3*))",
		},
		{
			name: "extensible with everything",
			in:   tlv(0xa9, prim(0x81, "2.5.13.5"), prim(0x82, "cn"), prim(0x83, "X"), []byte{0x84, 0x01, 0xff}),
			want: &Filter{Kind: FilterExtensible, MatchingRule: "2.5.13.5", Attr: "cn", Value: "X", DNAttributes: true},
			str:  "(cn:dn:2.5.13.5:=X)",
		},
		{
			name: "extensible without type",
			in:   tlv(0xa9, prim(0x81, "caseExactMatch"), prim(0x83, "y")),
			want: &Filter{Kind: FilterExtensible, MatchingRule: "caseExactMatch", Value: "y"},
			str:  "(:caseExactMatch:=y)",
		},
		{
			name: "extensible without rule, explicit FALSE dnAttributes",
			in:   tlv(0xa9, prim(0x82, "cn"), prim(0x83, "y"), []byte{0x84, 0x01, 0x00}),
			want: &Filter{Kind: FilterExtensible, Attr: "cn", Value: "y"},
			str:  "(cn:=y)",
		},
		{
			name: "values needing escapes",
			in:   eq("cn", "a*b(c)d\\e\x00f\xffg\u00e9"),
			want: &Filter{Kind: FilterEquality, Attr: "cn", Value: "a*b(c)d\\e\x00f\xffg\u00e9"},
			str:  `(cn=a\2ab\28c\29d\5ce\00f\ffg` + "\u00e9)",
		},
		{
			name: "depth exactly at the limit",
			in:   nested(0xa2, DefaultMaxFilterDepth-1, present("cn")),
			want: func() *Filter {
				f := &Filter{Kind: FilterPresent, Attr: "cn"}
				for range DefaultMaxFilterDepth - 1 {
					f = &Filter{Kind: FilterNot, Children: []*Filter{f}}
				}
				return f
			}(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeFilter(tc.in, Limits{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %s\nwant %s", show(got), show(tc.want))
			}
			if tc.str != "" && got.String() != tc.str {
				t.Errorf("String() = %q, want %q", got.String(), tc.str)
			}
		})
	}
}

func TestDecodeFilterMalformed(t *testing.T) {
	sub := func(parts ...[]byte) []byte { return tlv(0xa4, ostr("cn"), seq(parts...)) }
	wide := func(n int) []byte { return and(slices.Repeat([][]byte{present("cn")}, n)...) }
	anys := func(n int) []byte { return sub(slices.Repeat([][]byte{prim(0x81, "x")}, n)...) }
	tests := []struct {
		name string
		in   []byte
		lim  Limits
		want error
	}{
		{name: "not with no operand", in: tlv(0xa2), want: ErrMalformed},
		{name: "not with two operands", in: tlv(0xa2, present("a"), present("b")), want: ErrMalformed},
		{name: "not with broken operand", in: tlv(0xa2, []byte{0x87, 0x05, 'c'}), want: ErrMalformed},
		{name: "substring with no components", in: sub(), want: ErrMalformed},
		{name: "substring initial not first", in: sub(prim(0x81, "a"), prim(0x80, "b")), want: ErrMalformed},
		{name: "substring two initials", in: sub(prim(0x80, "a"), prim(0x80, "b")), want: ErrMalformed},
		{name: "substring final not last", in: sub(prim(0x82, "a"), prim(0x81, "b")), want: ErrMalformed},
		{name: "substring two finals", in: sub(prim(0x82, "a"), prim(0x82, "b")), want: ErrMalformed},
		{name: "substring unknown component", in: sub(prim(0x83, "a")), want: ErrMalformed},
		{name: "substring components not a SEQUENCE", in: tlv(0xa4, ostr("cn"), set(prim(0x81, "a"))), want: ErrMalformed},
		{name: "substring empty type", in: tlv(0xa4, ostr(""), seq(prim(0x81, "a"))), want: ErrMalformed},
		{name: "unknown filter tag", in: tlv(0xaa, ostr("cn"), ostr("x")), want: ErrMalformed},
		{name: "universal filter tag", in: seq(ostr("cn"), ostr("x")), want: ErrMalformed},
		{name: "present constructed", in: tlv(0xa7, ostr("cn")), want: ErrMalformed},
		{name: "present empty", in: prim(0x87, ""), want: ErrMalformed},
		{name: "equality primitive", in: prim(0x83, "cn=x"), want: ErrMalformed},
		{name: "equality missing value", in: tlv(0xa3, ostr("cn")), want: ErrMalformed},
		{name: "equality empty attribute", in: eq("", "x"), want: ErrMalformed},
		{name: "and primitive", in: prim(0x80, ""), want: ErrMalformed},
		{name: "extensible with neither rule nor type", in: tlv(0xa9, prim(0x83, "x")), want: ErrMalformed},
		{name: "extensible missing match value", in: tlv(0xa9, prim(0x82, "cn")), want: ErrMalformed},
		{name: "extensible fields out of order", in: tlv(0xa9, prim(0x82, "cn"), prim(0x81, "rule"), prim(0x83, "x")), want: ErrMalformed},
		{name: "extensible bad dnAttributes", in: tlv(0xa9, prim(0x82, "cn"), prim(0x83, "x"), prim(0x84, "")), want: ErrMalformed},
		{name: "extensible constructed dnAttributes", in: tlv(0xa9, prim(0x82, "cn"), prim(0x83, "x"), tlv(0xa4, boolean(true))), want: ErrMalformed},
		{name: "trailing garbage in and", in: and(present("cn"), []byte{0x00}), want: ErrMalformed},

		{name: "nested 100000 deep", in: nested(0xa2, 100000, present("cn")), want: ErrLimitExceeded},
		{name: "and nested 100000 deep", in: nested(0xa0, 100000, present("cn")), want: ErrLimitExceeded},
		{name: "one past the default depth", in: nested(0xa2, DefaultMaxFilterDepth, present("cn")), want: ErrLimitExceeded},
		{name: "past a custom depth", in: nested(0xa1, 3, present("cn")), lim: Limits{MaxFilterDepth: 3}, want: ErrLimitExceeded},
		{name: "too many nodes", in: wide(DefaultMaxFilterNodes), want: ErrLimitExceeded},
		{name: "too many nodes, custom limit", in: wide(5), lim: Limits{MaxFilterNodes: 5}, want: ErrLimitExceeded},
		{name: "substring any elements count as nodes", in: anys(5), lim: Limits{MaxFilterNodes: 5}, want: ErrLimitExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := decodeFilter(tc.in, tc.lim)
			if err == nil {
				t.Fatalf("Decode succeeded: %s", f)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %q", err, tc.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Tag != ApplicationSearchRequest {
				t.Errorf("error %q is not a *DecodeError for a search", err)
			}
		})
	}
}

func TestDecodeFilterNodeLimitBoundary(t *testing.T) {
	// An and of n-1 children is n nodes.
	var fs [][]byte
	for range 4 {
		fs = append(fs, present("cn"))
	}
	if _, err := decodeFilter(and(fs...), Limits{MaxFilterNodes: 5}); err != nil {
		t.Fatalf("5 nodes with MaxFilterNodes 5: %v", err)
	}
}

func TestFilterString(t *testing.T) {
	var nilFilter *Filter
	if s := nilFilter.String(); s != "" {
		t.Errorf("nil Filter renders %q", s)
	}
	f := &Filter{Kind: FilterExtensible, Attr: "cn", DNAttributes: true, Value: "x"}
	if s := f.String(); s != "(cn:dn:=x)" {
		t.Errorf("got %q", s)
	}
	if s := FilterKind(42).String(); s != "filter(42)" {
		t.Errorf("FilterKind(42).String() = %q", s)
	}
}
