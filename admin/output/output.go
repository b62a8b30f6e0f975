// Package output prints the results of ldapd's client commands (entries,
// API tokens, group members, Outcomes of changes) as text or JSON. Results
// go to one writer (stdout), notices to another (stderr), so that stdout
// holds only data.
package output

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ldapd/ldapd/admin"
)

// Output formats (-o).
const (
	FormatText = "text"
	FormatJSON = "json"
)

// A Printer writes a command's results in the chosen format. Results go to
// stdout; notices (such as "no API tokens") go to stderr, so that stdout
// holds only data.
type Printer struct {
	Format string              // FormatText or FormatJSON
	Stdout io.Writer           // results
	Stderr io.Writer           // notices
	Loc    *time.Location      // zone for times; time.Local in the CLI
	Name   func(string) string // short name for a DN (admin.Client.DisplayName)
}

func (p *Printer) JSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(p.Stdout, "%s\n", b)
	return err
}

func (p *Printer) Notice(format string, a ...any) {
	fmt.Fprintf(p.Stderr, format+"\n", a...)
}

// entryJSON is an entry in JSON: {"dn": ..., "attributes": {name: [values]}}.
type entryJSON struct {
	DN         string              `json:"dn"`
	Attributes map[string][]string `json:"attributes"`
}

func toEntryJSON(e admin.Entry) entryJSON {
	out := entryJSON{DN: e.DN, Attributes: make(map[string][]string, len(e.Attrs))}
	for _, a := range e.Attrs {
		out.Attributes[a.Name] = append(out.Attributes[a.Name], a.Values...)
	}
	return out
}

// Entry prints one entry: in text, a "dn: DN" line, then "attr: value"
// lines, attributes sorted by name (any case), values in the server's
// order.
func (p *Printer) Entry(e admin.Entry) error {
	if p.Format == FormatJSON {
		return p.JSON(toEntryJSON(e))
	}
	writeEntry(p.Stdout, e)
	return nil
}

// Entries prints a list of entries: text blocks separated by blank lines,
// or a JSON array. An empty list prints the notice on stderr (and [] in
// JSON).
func (p *Printer) Entries(es []admin.Entry, empty string) error {
	if p.Format == FormatJSON {
		out := make([]entryJSON, len(es))
		for i, e := range es {
			out[i] = toEntryJSON(e)
		}
		return p.JSON(out)
	}
	return blocks(p, es, empty, func(e admin.Entry) { writeEntry(p.Stdout, e) })
}

// blocks prints each item with write, blank lines between them; no items
// print the notice empty on stderr instead.
func blocks[T any](p *Printer, items []T, empty string, write func(T)) error {
	if len(items) == 0 {
		p.Notice("%s", empty)
		return nil
	}
	for i, it := range items {
		if i > 0 {
			fmt.Fprintln(p.Stdout)
		}
		write(it)
	}
	return nil
}

func writeEntry(w io.Writer, e admin.Entry) {
	fmt.Fprintf(w, "dn: %s\n", textValue(e.DN))
	attrs := slices.Clone(e.Attrs)
	slices.SortStableFunc(attrs, func(a, b admin.Attr) int {
		return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	for _, a := range attrs {
		for _, v := range a.Values {
			fmt.Fprintf(w, "%s: %s\n", a.Name, textValue(v))
		}
	}
}

// textValue keeps one value on one line: values with line breaks or other
// control characters are printed Go-quoted.
func textValue(v string) string {
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return strconv.Quote(v)
		}
	}
	return v
}

func (p *Printer) timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.Loc).Format(time.RFC3339)
}

// Tokens prints token records: in text, one block per token of
// "token_id: ...", "label: ...", "purpose: ...", "issued_at: ...",
// "expiry: ..." ("never" if none), "issued_by: ..." lines, separated by
// blank lines; in JSON an array of admin.TokenJSON. No tokens: a notice on
// stderr, nothing on stdout (JSON: []).
func (p *Printer) Tokens(account string, ts []admin.Token) error {
	if p.Format == FormatJSON {
		out := make([]admin.TokenJSON, len(ts))
		for i, t := range ts {
			out[i] = t.JSON(p.Loc, p.Name)
		}
		return p.JSON(out)
	}
	return blocks(p, ts, "service account "+account+" has no API tokens", func(t admin.Token) {
		expiry := "never"
		if !t.Expiry.IsZero() {
			expiry = p.timeText(t.Expiry)
		}
		fmt.Fprintf(p.Stdout, "token_id: %s\nlabel: %s\npurpose: %s\nissued_at: %s\nexpiry: %s\nissued_by: %s\n",
			t.ID, textValue(t.Label), t.Purpose, p.timeText(t.IssuedAt), expiry, textValue(p.Name(t.IssuedBy)))
	})
}

// Generated prints a new token: alone on one line of stdout (so that
// TOKEN=$(ldapd ...) works), or {"token": ..., "token_id": ...}. The
// notice that it is shown once goes to stderr either way.
func (p *Printer) Generated(account string, g admin.GeneratedToken) error {
	p.Notice("This token is shown once; it is not stored by the server, which keeps only its record (token id %s).\n"+
		"Revoke it with: ldapd service-account api-token destroy %s %s --name NAME", g.ID, account, g.ID)
	if p.Format == FormatJSON {
		return p.JSON(struct {
			Token   string `json:"token"`
			TokenID string `json:"token_id"`
		}{g.Token, g.ID})
	}
	_, err := fmt.Fprintln(p.Stdout, g.Token)
	return err
}

// memberJSON is a group member in JSON.
type memberJSON struct {
	Name string `json:"name"`
	DN   string `json:"dn"`
}

// Members prints a group's members: their names one per line (the DN when
// no short name derives from it), or a JSON array of {name, dn}.
func (p *Printer) Members(group string, dns []string) error {
	if p.Format == FormatJSON {
		out := make([]memberJSON, len(dns))
		for i, dn := range dns {
			out[i] = memberJSON{Name: p.Name(dn), DN: dn}
		}
		return p.JSON(out)
	}
	if len(dns) == 0 {
		p.Notice("group %s has no members", group)
		return nil
	}
	for _, dn := range dns {
		fmt.Fprintln(p.Stdout, textValue(p.Name(dn)))
	}
	return nil
}

// Outcome is the result of a command that changes something.
type Outcome struct {
	Result    string   `json:"result"` // created, updated, deleted, destroyed, password set, members added, members removed
	Kind      string   `json:"kind"`   // service-account, api-token, person, group
	Name      string   `json:"name"`
	DN        string   `json:"dn,omitempty"`
	Account   string   `json:"account,omitempty"`   // api-token: its service account
	Password  string   `json:"password,omitempty"`  // set-password --generate
	Changed   []string `json:"changed,omitempty"`   // members added or removed (DNs)
	Unchanged []string `json:"unchanged,omitempty"` // members already in, or not in, the group
}

// Done prints an Outcome: in text, the line that says what changed, such
// as "created person demo_user (DN)", "deleted group demo_group" or
// "destroyed API token ID of service account demo_service"; in JSON, the
// Outcome.
func (p *Printer) Done(o Outcome) error { return p.done(o, o.text()) }

// text is the line Done prints: Result, the kind in words, Name, the
// service account of a token, then the DN in parentheses.
func (o Outcome) text() string {
	kind := o.Kind
	switch kind {
	case "service-account":
		kind = "service account"
	case "api-token":
		kind = "API token"
	}
	s := o.Result + " " + kind + " " + o.Name
	if o.Account != "" {
		s += " of service account " + o.Account
	}
	if o.DN != "" {
		s += " (" + o.DN + ")"
	}
	return s
}

// done prints o: text in text, the Outcome in JSON.
func (p *Printer) done(o Outcome, text string) error {
	if p.Format == FormatJSON {
		return p.JSON(o)
	}
	_, err := fmt.Fprintln(p.Stdout, text)
	return err
}

// MembersChanged prints what adding (add) or removing members of group
// did: a notice for each member that was already in (or not in) it, then
// one line naming the members changed (nothing when none was); in JSON,
// the Outcome.
func (p *Printer) MembersChanged(group string, add bool, ch admin.MembershipChange) error {
	result, verb, stay := "members removed", "removed from", "is not a member of"
	if add {
		result, verb, stay = "members added", "added to", "is already a member of"
	}
	for _, dn := range ch.Unchanged {
		p.Notice("%s %s group %s", p.Name(dn), stay, group)
	}
	o := Outcome{Result: result, Kind: "group", Name: group, Changed: ch.Changed, Unchanged: ch.Unchanged}
	if p.Format == FormatJSON {
		return p.JSON(o)
	}
	if len(ch.Changed) == 0 {
		return nil
	}
	names := make([]string, len(ch.Changed))
	for i, dn := range ch.Changed {
		names[i] = p.Name(dn)
	}
	return p.done(o, fmt.Sprintf("%s group %s: %s", verb, group, strings.Join(names, ", ")))
}

// PasswordSet prints that the password of the person name was set: with a
// generated password (shown this once), a notice and the password alone
// on one line; in JSON, the Outcome, which holds it.
func (p *Printer) PasswordSet(name, generated string) error {
	o := Outcome{Result: "password set", Kind: "person", Name: name, Password: generated}
	if generated == "" {
		return p.done(o, "set the password of "+name)
	}
	p.Notice("set a generated password for %s; it is shown once", name)
	if p.Format == FormatJSON {
		return p.JSON(o)
	}
	_, err := fmt.Fprintln(p.Stdout, generated)
	return err
}
