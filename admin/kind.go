package admin

import (
	"context"

	"github.com/go-ldap/ldap/v3"

	"github.com/ldapd/ldapd/directory"
)

// A Kind is one of the kinds of entry the client manages by name: people,
// groups and service accounts. Creating, reading and deleting one is the
// same for each but for its DN and object class (create, Get, remove).
type Kind string

// The kinds, named as in messages.
const (
	KindPerson         Kind = "person"
	KindGroup          Kind = "group"
	KindServiceAccount Kind = "service account"
)

// dn is the DN of the entry name of kind k under base.
func (k Kind) dn(base directory.DN, name string) directory.DN {
	switch k {
	case KindPerson:
		return personDN(base, name)
	case KindGroup:
		return groupDN(base, name)
	}
	return serviceAccountDN(base, name)
}

// class is the structural object class of kind k.
func (k Kind) class() string {
	switch k {
	case KindPerson:
		return classPerson
	case KindGroup:
		return classGroup
	}
	return directory.ClassServiceAccount
}

// op names an operation on the entry name of kind k.
func (k Kind) op(action, name string) op { return op{action: action, kind: string(k), name: name} }

// create adds req, the entry name of kind k, and returns its DN.
func (c *Client) create(ctx context.Context, k Kind, name string, req *ldap.AddRequest) (string, error) {
	if err := c.do(ctx, func() error { return c.conn.Add(req) }); err != nil {
		return "", c.fail(ctx, err, k.op("create "+string(k)+" "+name, name))
	}
	return req.DN, nil
}

// get reads the entry name (a bare name or an spn) of kind k.
func (c *Client) Get(ctx context.Context, k Kind, name string) (Entry, error) {
	name, err := localName(name, c.domain)
	if err != nil {
		return Entry{}, err
	}
	return c.getEntry(ctx, k.dn(c.base, name).String(), k.class(), k.op("read "+string(k)+" "+name, name))
}

// remove deletes the entry name (a bare name or an spn) of kind k.
func (c *Client) remove(ctx context.Context, k Kind, name string) error {
	name, err := localName(name, c.domain)
	if err != nil {
		return err
	}
	dn := k.dn(c.base, name).String()
	err = c.do(ctx, func() error { return c.conn.Del(ldap.NewDelRequest(dn, nil)) })
	return c.fail(ctx, err, k.op("delete "+string(k)+" "+name, name))
}
