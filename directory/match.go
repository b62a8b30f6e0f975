package directory

import (
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Matching rule names known to ldapd. An attribute type names its equality,
// ordering and substrings rules; values are compared after normalization by
// the rule (RFC 4517 section 4).
const (
	RuleCaseIgnore         = "caseIgnoreMatch"
	RuleCaseIgnoreOrdering = "caseIgnoreOrderingMatch"
	RuleCaseIgnoreSubstr   = "caseIgnoreSubstringsMatch"
	RuleCaseExact          = "caseExactMatch"
	RuleCaseExactSubstr    = "caseExactSubstringsMatch"
	RuleCaseIgnoreIA5      = "caseIgnoreIA5Match"
	RuleCaseIgnoreIA5Sub   = "caseIgnoreIA5SubstringsMatch"
	RuleCaseExactIA5       = "caseExactIA5Match"
	RuleDN                 = "distinguishedNameMatch"
	RuleInteger            = "integerMatch"
	RuleIntegerOrdering    = "integerOrderingMatch"
	RuleOctetString        = "octetStringMatch"
	RuleGeneralizedTime    = "generalizedTimeMatch"
	RuleGeneralizedTimeOrd = "generalizedTimeOrderingMatch"
	RuleBoolean            = "booleanMatch"
	RuleOID                = "objectIdentifierMatch"
	RuleUUID               = "UUIDMatch"
	RuleUUIDOrdering       = "UUIDOrderingMatch"
	RuleTelephone          = "telephoneNumberMatch"
	RuleTelephoneSubstr    = "telephoneNumberSubstringsMatch"
	RuleNumericString      = "numericStringMatch"
)

// matchingRules lists the rules with their OIDs, for the subschema entry and
// for extensible-match filters that name a rule by OID.
var matchingRuleOIDs = [...][2]string{
	{RuleCaseIgnore, "2.5.13.2"},
	{RuleCaseIgnoreOrdering, "2.5.13.3"},
	{RuleCaseIgnoreSubstr, "2.5.13.4"},
	{RuleCaseExact, "2.5.13.5"},
	{RuleCaseExactSubstr, "2.5.13.7"},
	{RuleCaseIgnoreIA5, "1.3.6.1.4.1.1466.109.114.2"},
	{RuleCaseIgnoreIA5Sub, "1.3.6.1.4.1.1466.109.114.3"},
	{RuleCaseExactIA5, "1.3.6.1.4.1.1466.109.114.1"},
	{RuleDN, "2.5.13.1"},
	{RuleInteger, "2.5.13.14"},
	{RuleIntegerOrdering, "2.5.13.15"},
	{RuleOctetString, "2.5.13.17"},
	{RuleGeneralizedTime, "2.5.13.27"},
	{RuleGeneralizedTimeOrd, "2.5.13.28"},
	{RuleBoolean, "2.5.13.13"},
	{RuleOID, "2.5.13.0"},
	{RuleUUID, "1.3.6.1.1.16.2"},
	{RuleUUIDOrdering, "1.3.6.1.1.16.3"},
	{RuleTelephone, "2.5.13.20"},
	{RuleTelephoneSubstr, "2.5.13.21"},
	{RuleNumericString, "2.5.13.8"},
}

// normalizer returns the normalization function of an equality, ordering
// or substrings rule, or nil for an unknown rule. A normalizer reports
// ok=false for a value that is not valid for the rule; such an assertion
// evaluates to Undefined.
// foldsCase reports whether rule normalizes with foldSpace (the
// caseIgnore rules).
func foldsCase(rule string) bool {
	switch strings.ToLower(ruleName(rule)) {
	case "caseignorematch", "caseignoreorderingmatch", "caseignoresubstringsmatch",
		"caseignoreia5match", "caseignoreia5substringsmatch", "caseignorelistmatch":
		return true
	}
	return false
}

// foldIsLower reports whether foldSpace(v) only lower-cases v: v is ASCII
// with no space at either end, no run of spaces and no other white space.
// The fold matchers below then compare v byte by byte, lower-casing as
// they go, instead of allocating foldSpace(v).
func foldIsLower(v string) bool {
	prevSpace := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= utf8.RuneSelf || ('\t' <= c && c <= '\r') || (c == ' ' && prevSpace) {
			return false
		}
		prevSpace = c == ' '
	}
	return len(v) == 0 || v[len(v)-1] != ' '
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalLower reports whether lower(v) == n, for v and n of equal length.
func equalLower(v, n string) bool {
	for i := 0; i < len(v); i++ {
		if lowerByte(v[i]) != n[i] {
			return false
		}
	}
	return true
}

// indexLower is strings.Index(lower(v), n).
func indexLower(v, n string) int {
	for i := 0; i+len(n) <= len(v); i++ {
		if equalLower(v[i:i+len(n)], n) {
			return i
		}
	}
	return -1
}

// substringsMatchLower is substringsMatch(lower(v), parts).
func substringsMatchLower(v string, parts []string) bool {
	initial, final, any := parts[0], parts[len(parts)-1], parts[1:len(parts)-1]
	if len(initial) > len(v) || !equalLower(v[:len(initial)], initial) {
		return false
	}
	v = v[len(initial):]
	if len(final) > len(v) || !equalLower(v[len(v)-len(final):], final) {
		return false
	}
	v = v[:len(v)-len(final)]
	for _, a := range any {
		i := indexLower(v, a)
		if i < 0 {
			return false
		}
		v = v[i+len(a):]
	}
	return true
}

func normalizer(rule string) func(string) (string, bool) {
	if foldsCase(rule) {
		return func(v string) (string, bool) { return foldSpace(v), true }
	}
	switch strings.ToLower(ruleName(rule)) {
	case "caseexactmatch", "caseexactsubstringsmatch", "caseexactia5match", "caseexactorderingmatch":
		return func(v string) (string, bool) { return collapseSpace(v), true }
	case "distinguishednamematch":
		return func(v string) (string, bool) {
			dn, err := ParseDN(v)
			if err != nil {
				return "", false
			}
			return dn.Norm(), true
		}
	case "integermatch", "integerorderingmatch":
		return normalizeInteger
	case "octetstringmatch":
		return func(v string) (string, bool) { return v, true }
	case "generalizedtimematch", "generalizedtimeorderingmatch":
		return func(v string) (string, bool) {
			t, err := ParseGeneralizedTime(v)
			if err != nil {
				return "", false
			}
			return t.UTC().Format("20060102150405.000000000Z"), true
		}
	case "booleanmatch":
		return func(v string) (string, bool) {
			switch v {
			case "TRUE", "FALSE":
				return v, true
			}
			return "", false
		}
	case "objectidentifiermatch":
		return func(v string) (string, bool) { return strings.ToLower(strings.TrimSpace(v)), v != "" }
	case "uuidmatch", "uuidorderingmatch":
		return func(v string) (string, bool) {
			if !validUUID(v) {
				return "", false
			}
			return strings.ToLower(v), true
		}
	case "telephonenumbermatch", "telephonenumbersubstringsmatch":
		return func(v string) (string, bool) {
			return strings.Map(func(r rune) rune {
				if r == ' ' || r == '-' {
					return -1
				}
				return unicode.ToLower(r)
			}, v), true
		}
	case "numericstringmatch":
		return func(v string) (string, bool) { return strings.ReplaceAll(v, " ", ""), true }
	}
	return nil
}

// ruleName maps a rule OID to its name; names pass through.
func ruleName(rule string) string {
	for _, r := range matchingRuleOIDs {
		if r[1] == rule {
			return r[0]
		}
	}
	return rule
}

// foldSpace lowers case, trims and collapses runs of spaces. It does not
// allocate for values already in that form.
func foldSpace(v string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		// '\t'..'\r' too: collapseSpace trims them, so a value holding one
		// must take that path whatever its case ("\tx" and "\tX" are equal).
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') || (c == ' ' && prevSpace) || ('\t' <= c && c <= '\r') {
			clean = false
			break
		}
		prevSpace = c == ' '
	}
	if clean && (len(v) == 0 || v[len(v)-1] != ' ') {
		return v
	}
	return collapseSpace(strings.ToLower(v))
}

// collapseSpace trims and collapses runs of spaces.
func collapseSpace(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	prev := false
	for _, r := range v {
		if r == ' ' {
			if prev {
				continue
			}
			prev = true
		} else {
			prev = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalizeInteger validates an RFC 4517 Integer and returns its canonical
// decimal form (no leading zeros, no "-0").
func normalizeInteger(v string) (string, bool) {
	if v == "" || len(v) > 256 {
		return "", false
	}
	s := v
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return "", false
	}
	if v == "-0" {
		return "", false
	}
	return v, true
}

// compareIntegers orders two canonical integers.
func compareIntegers(a, b string) int {
	if len(a) < 19 && len(b) < 19 {
		x, y := parseSmall(a), parseSmall(b)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	x, _ := new(big.Int).SetString(a, 10)
	y, _ := new(big.Int).SetString(b, 10)
	return x.Cmp(y)
}

func parseSmall(s string) int64 {
	neg := false
	if s[0] == '-' {
		neg = true
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// validUUID checks the RFC 4122 text form.
func validUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := v[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// GeneralizedTimeLayout is the form ldapd writes timestamps in.
const GeneralizedTimeLayout = "20060102150405Z"

// FormatGeneralizedTime renders t in UTC as a GeneralizedTime.
func FormatGeneralizedTime(t time.Time) string { return t.UTC().Format(GeneralizedTimeLayout) }

// ParseGeneralizedTime parses the RFC 4517 GeneralizedTime forms ldapd and
// common clients use: YYYYMMDDHH[MM[SS[.f]]] followed by Z or +hhmm/-hhmm.
func ParseGeneralizedTime(v string) (time.Time, error) {
	layouts := []string{
		"20060102150405Z0700", "20060102150405.999999999Z0700",
		"200601021504Z0700", "2006010215Z0700",
		"20060102150405,999999999Z0700",
	}
	var err error
	for _, l := range layouts {
		var t time.Time
		if t, err = time.Parse(l, v); err == nil {
			return t, nil
		}
	}
	return time.Time{}, Errorf(ErrInvalidAttributeSyntax, "invalid GeneralizedTime "+quote(v))
}

func quote(v string) string {
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return "\"" + v + "\""
}
