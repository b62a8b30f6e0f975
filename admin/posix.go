package admin

import (
	"context"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// PosixOptions are the RFC 2307 attributes a caller may choose when making
// a person POSIX; empty fields keep what the entry has, or let the server
// pick its default (loginShell /bin/bash, homeDirectory /home/NAME, the
// uidNumber as gidNumber).
type PosixOptions struct {
	Shell string // loginShell
	Home  string // homeDirectory
	// PrimaryGroup names a POSIX group whose gidNumber becomes the
	// person's gidNumber.
	PrimaryGroup string
}

// MakePersonPosix gives the person name the class posixAccount; the server
// allocates its uidNumber (and gidNumber) from its uid range. On a person
// that already is POSIX it only applies opts. It returns the person as
// read back.
func (c *Client) MakePersonPosix(ctx context.Context, name string, opts PosixOptions) (Person, error) {
	p, err := c.GetPerson(ctx, name)
	if err != nil {
		return Person{}, err
	}
	req := ldap.NewModifyRequest(p.DN, nil)
	if !hasValueFold(p.Entry.Values("objectClass"), "posixAccount") {
		req.Add("objectClass", []string{"posixAccount"})
	}
	if opts.Shell != "" {
		req.Replace("loginShell", []string{opts.Shell})
	}
	if opts.Home != "" {
		req.Replace("homeDirectory", []string{opts.Home})
	}
	if opts.PrimaryGroup != "" {
		g, err := c.GetGroup(ctx, opts.PrimaryGroup)
		if err != nil {
			return Person{}, err
		}
		gid := g.Entry.Value("gidNumber")
		if gid == "" {
			return Person{}, &Error{Msg: "group " + g.Name + " is not a POSIX group (it has no gidNumber): run ldapd group posix " + g.Name + " first", kind: ErrNotFound}
		}
		req.Replace("gidNumber", []string{gid})
	}
	if len(req.Changes) > 0 {
		if err := c.do(ctx, func() error { return c.conn.Modify(req) }); err != nil {
			return Person{}, c.fail(ctx, err, personOp("make person "+p.Name+" POSIX", p.Name))
		}
	}
	return c.GetPerson(ctx, name)
}

// MakeGroupPosix gives the group name the class posixGroup; the server
// allocates its gidNumber from its gid range and keeps memberUid in step
// with member. It returns the group as read back.
func (c *Client) MakeGroupPosix(ctx context.Context, name string) (Group, error) {
	g, err := c.GetGroup(ctx, name)
	if err != nil {
		return Group{}, err
	}
	if !hasValueFold(g.Entry.Values("objectClass"), "posixGroup") {
		req := ldap.NewModifyRequest(g.DN, nil)
		req.Add("objectClass", []string{"posixGroup"})
		if err := c.do(ctx, func() error { return c.conn.Modify(req) }); err != nil {
			return Group{}, c.fail(ctx, err, groupOp("make group "+g.Name+" POSIX", g.Name))
		}
	}
	return c.GetGroup(ctx, name)
}

func hasValueFold(values []string, want string) bool {
	return slices.ContainsFunc(values, func(v string) bool { return strings.EqualFold(v, want) })
}
