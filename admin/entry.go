package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Entry is a directory entry as the server returned it.
type Entry struct {
	DN    string
	Attrs []Attr // in the server's order
}

// Record is what Person, Group and ServiceAccount have in common.
type Record struct {
	Name     string
	DN       string
	UUID     string   // entryUUID
	MemberOf []string // DNs of the groups it is in (resolved by the server)
	Entry    Entry    // every attribute the server returned
}

// recordFrom reads a Record from e, whose name is the nameAttr value.
func recordFrom(e Entry, nameAttr string) Record {
	return Record{Name: e.Value(nameAttr), DN: e.DN, UUID: e.Value("entryUUID"), MemberOf: e.Values("memberOf"), Entry: e}
}

// Attr is one attribute of an Entry.
type Attr struct {
	Name   string
	Values []string
}

// Values returns the values of the named attribute (any case), or nil.
func (e Entry) Values(name string) []string {
	for _, a := range e.Attrs {
		if strings.EqualFold(a.Name, name) {
			return a.Values
		}
	}
	return nil
}

// Value returns the first value of the named attribute, or "".
func (e Entry) Value(name string) string {
	if v := e.Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func entryFrom(le *ldap.Entry) Entry {
	e := Entry{DN: le.DN, Attrs: make([]Attr, 0, len(le.Attributes))}
	for _, a := range le.Attributes {
		e.Attrs = append(e.Attrs, Attr{Name: a.Name, Values: append([]string(nil), a.Values...)})
	}
	return e
}

// getAttrs is what the get methods ask for: the user attributes and the
// operational attributes the CLI shows.
func getAttrs() []string { return []string{"*", "entryUUID", "memberOf", "spn"} }

// parseGeneralizedTime parses the GeneralizedTime syntax (RFC 4517 section
// 3.3.13): YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|(+|-)HH[MM]). The result is
// in UTC.
func parseGeneralizedTime(s string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("invalid GeneralizedTime %q", s)
	}
	if len(s) < 11 {
		return bad()
	}
	// Split off the zone.
	var loc *time.Location
	body := s
	switch {
	case strings.HasSuffix(s, "Z"):
		loc, body = time.UTC, s[:len(s)-1]
	default:
		i := strings.LastIndexAny(s, "+-")
		if i < 10 {
			return bad()
		}
		zone := s[i+1:]
		if len(zone) != 2 && len(zone) != 4 || !allDigits(zone) {
			return bad()
		}
		h, _ := strconv.Atoi(zone[:2])
		m := 0
		if len(zone) == 4 {
			m, _ = strconv.Atoi(zone[2:])
		}
		off := h*3600 + m*60
		if s[i] == '-' {
			off = -off
		}
		loc, body = time.FixedZone("", off), s[:i]
	}
	// Split off the fraction.
	frac := ""
	if i := strings.IndexAny(body, ".,"); i >= 0 {
		frac, body = body[i+1:], body[:i]
		if frac == "" || !allDigits(frac) {
			return bad()
		}
	}
	if !allDigits(body) {
		return bad()
	}
	var layout string
	switch len(body) {
	case 10:
		layout = "2006010215"
	case 12:
		layout = "200601021504"
	case 14:
		layout = "20060102150405"
	default:
		return bad()
	}
	t, err := time.ParseInLocation(layout, body, loc)
	if err != nil {
		return bad()
	}
	if frac != "" {
		// The fraction is of the last unit given.
		unit := map[int]time.Duration{10: time.Hour, 12: time.Minute, 14: time.Second}[len(body)]
		f, _ := strconv.ParseFloat("0."+frac, 64)
		t = t.Add(time.Duration(f * float64(unit)))
	}
	return t.UTC(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
