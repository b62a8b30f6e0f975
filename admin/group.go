package admin

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// Group is a group entry (cn=NAME,ou=groups,BASE).
type Group struct {
	Name     string
	DN       string
	Members  []string // DNs of the direct members
	MemberOf []string // DNs of the groups it is in (resolved by the server)
	UUID     string
	Entry    Entry // every attribute the server returned
}

func groupFrom(e Entry) Group {
	return Group{
		Name:     e.Value("cn"),
		DN:       e.DN,
		Members:  e.Values("member"),
		MemberOf: e.Values("memberOf"),
		UUID:     e.Value("entryUUID"),
		Entry:    e,
	}
}

func groupOp(action, name string) op { return KindGroup.op(action, name) }

func groupAdd(base directory.DN, name string) *ldap.AddRequest {
	req := ldap.NewAddRequest(groupDN(base, name).String(), nil)
	req.Attribute("objectClass", []string{"top", classGroup})
	req.Attribute("cn", []string{name})
	return req
}

// CreateGroup adds the empty group name and returns its DN.
func (c *Client) CreateGroup(ctx context.Context, name string) (string, error) {
	name, err := localName(name, c.domain)
	if err != nil {
		return "", err
	}
	return c.create(ctx, KindGroup, name, groupAdd(c.base, name))
}

// GetGroup reads the group name.
func (c *Client) GetGroup(ctx context.Context, name string) (Group, error) {
	e, err := c.Get(ctx, KindGroup, name)
	return groupFrom(e), err
}

// ListMembers returns the DNs of the direct members of the group name.
func (c *Client) ListMembers(ctx context.Context, name string) ([]string, error) {
	g, err := c.GetGroup(ctx, name)
	if err != nil {
		return nil, err
	}
	return g.Members, nil
}

// MembershipChange reports what AddMembers or RemoveMembers did: the DNs
// it added (or removed), and those it left because they already were (or
// were not) members.
type MembershipChange struct {
	Changed   []string
	Unchanged []string
}

// AddMembers adds members (names for Resolve) to the group name. Members
// already in the group are reported in Unchanged, not as errors.
func (c *Client) AddMembers(ctx context.Context, name string, members []string) (MembershipChange, error) {
	return c.changeMembers(ctx, name, members, true)
}

// RemoveMembers removes members (names for Resolve) from the group name.
// Names that are not members are reported in Unchanged, not as errors.
func (c *Client) RemoveMembers(ctx context.Context, name string, members []string) (MembershipChange, error) {
	return c.changeMembers(ctx, name, members, false)
}

func (c *Client) changeMembers(ctx context.Context, name string, members []string, add bool) (MembershipChange, error) {
	g, err := c.GetGroup(ctx, name)
	if err != nil {
		return MembershipChange{}, err
	}
	dns := make([]string, 0, len(members))
	for _, m := range members {
		dn, err := c.Resolve(ctx, m)
		if err != nil {
			return MembershipChange{}, err
		}
		dns = append(dns, dn)
	}
	ch := partitionMembers(g.Members, dns, add)
	if len(ch.Changed) == 0 {
		return ch, nil
	}
	req := ldap.NewModifyRequest(g.DN, nil)
	action := "add members to group " + g.Name
	if add {
		req.Add("member", ch.Changed)
	} else {
		req.Delete("member", ch.Changed)
		action = "remove members from group " + g.Name
	}
	if err := c.do(ctx, func() error { return c.conn.Modify(req) }); err != nil {
		return MembershipChange{}, c.fail(ctx, err, groupOp(action, g.Name))
	}
	return ch, nil
}

// partitionMembers splits the wanted DNs into those to add (add) or remove
// (!add) and those to leave, comparing DNs by their normalized form and
// dropping duplicates.
func partitionMembers(current, wanted []string, add bool) MembershipChange {
	norm := func(s string) string {
		if d, err := directory.ParseDN(s); err == nil {
			return d.Norm()
		}
		return s
	}
	isMember := make(map[string]bool, len(current))
	for _, m := range current {
		isMember[norm(m)] = true
	}
	seen := make(map[string]bool, len(wanted))
	var ch MembershipChange
	for _, w := range wanted {
		n := norm(w)
		if seen[n] {
			continue
		}
		seen[n] = true
		if isMember[n] == add {
			ch.Unchanged = append(ch.Unchanged, w)
		} else {
			ch.Changed = append(ch.Changed, w)
		}
	}
	return ch
}

// DeleteGroup deletes the group name.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.remove(ctx, KindGroup, name)
}
