package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/ldapd/ldapd/admin"
)

func runGroup(ctx context.Context, e *env, args []string) error {
	return dispatch(ctx, e, "group", `
Manage groups, over LDAP, as the account named by --name. A group is an entry
cn=NAME,ou=groups under the base DN (class groupOfNames) whose member values
are DNs; the server keeps memberOf on every member, nested groups resolved.
Members of idm_group_admins (idm_admin by default) may manage groups.`,
		[]subcommand{
			{"create", "create an empty group", runGroupCreate},
			{"get", "show a group", runGroupGet},
			{"add-members", "add members to a group", runGroupAddMembers},
			{"remove-members", "remove members from a group", runGroupRemoveMembers},
			{"list-members", "list a group's direct members", runGroupListMembers},
			{"delete", "delete a group", runGroupDelete},
			{"posix", "give a group a gidNumber and memberUid", runGroupPosix},
		}, args)
}

const memberHelp = `a person, a service account or a group: a bare name, an spn
(name@idm.example.com) or a DN`

func runGroupCreate(ctx context.Context, e *env, args []string) error {
	inv := newInvocation(&cmdSpec{
		group: "group", sub: "create", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "create a group",
		desc: `
Create the empty group NAME (cn=NAME,ou=groups under the base DN). Add
members with "group add-members".`,
		args: [][2]string{{"NAME", "the group's name (its cn)"}},
		examples: []string{
			"ldapd group create demo_group --name idm_admin",
			"ldapd group add-members demo_group demo_user --name idm_admin",
		},
	})
	if err := inv.parse(e, args); err != nil {
		return err
	}
	return inv.withClient(ctx, e, func(c *admin.Client) error {
		name := inv.args[0]
		dn, err := c.CreateGroup(ctx, name)
		if err != nil {
			return err
		}
		return inv.printer(e, c).done(outcome{Result: "created", Kind: "group", Name: name, DN: dn},
			fmt.Sprintf("created group %s (%s)", name, dn))
	})
}

func runGroupGet(ctx context.Context, e *env, args []string) error {
	inv := newInvocation(&cmdSpec{
		group: "group", sub: "get", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "show a group",
		desc: `
Show the group NAME: its DN, then one "attribute: value" line per value (its
attributes, with member, entryUUID and memberOf), attributes in alphabetical
order. With -o json: {"dn": DN, "attributes": {NAME: [VALUES]}}.`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group get demo_group --name idm_admin"},
	})
	if err := inv.parse(e, args); err != nil {
		return err
	}
	return inv.withClient(ctx, e, func(c *admin.Client) error {
		g, err := c.GetGroup(ctx, inv.args[0])
		if err != nil {
			return err
		}
		return inv.printer(e, c).entry(g.Entry)
	})
}

func runGroupAddMembers(ctx context.Context, e *env, args []string) error {
	return runChangeMembers(ctx, e, args, true, &cmdSpec{
		group: "group", sub: "add-members", min: 2, max: -1,
		usage:   "NAME MEMBER... --name NAME",
		summary: "add members to a group",
		desc: `
Add each MEMBER to the group NAME. Members already in the group are reported
on standard error and left as they are; a MEMBER that names nothing, or more
than one entry, stops the command before anything changes.`,
		args: [][2]string{
			{"NAME", "the group's name"},
			{"MEMBER...", memberHelp},
		},
		examples: []string{
			"ldapd group add-members demo_group demo_user --name idm_admin",
			"ldapd group add-members demo_group alice bob demo_service --name idm_admin",
		},
	})
}

func runGroupRemoveMembers(ctx context.Context, e *env, args []string) error {
	return runChangeMembers(ctx, e, args, false, &cmdSpec{
		group: "group", sub: "remove-members", min: 2, max: -1,
		usage:   "NAME MEMBER... --name NAME",
		summary: "remove members from a group",
		desc: `
Remove each MEMBER from the group NAME. Names that are not members are
reported on standard error; a MEMBER that names nothing, or more than one
entry, stops the command before anything changes (give a member that no
longer exists as its DN).`,
		args: [][2]string{
			{"NAME", "the group's name"},
			{"MEMBER...", memberHelp},
		},
		examples: []string{"ldapd group remove-members demo_group demo_user --name idm_admin"},
	})
}

func runChangeMembers(ctx context.Context, e *env, args []string, add bool, spec *cmdSpec) error {
	inv := newInvocation(spec)
	if err := inv.parse(e, args); err != nil {
		return err
	}
	name, members := inv.args[0], inv.args[1:]
	return inv.withClient(ctx, e, func(c *admin.Client) error {
		change := c.RemoveMembers
		result, verb, stay := "members removed", "removed from", "is not a member of"
		if add {
			change = c.AddMembers
			result, verb, stay = "members added", "added to", "is already a member of"
		}
		ch, err := change(ctx, name, members)
		if err != nil {
			return err
		}
		p := inv.printer(e, c)
		for _, dn := range ch.Unchanged {
			p.notice("%s %s group %s", p.name(dn), stay, name)
		}
		o := outcome{Result: result, Kind: "group", Name: name, Changed: ch.Changed, Unchanged: ch.Unchanged}
		if p.format == formatJSON {
			return p.json(o)
		}
		if len(ch.Changed) == 0 {
			return nil
		}
		names := make([]string, len(ch.Changed))
		for i, dn := range ch.Changed {
			names[i] = p.name(dn)
		}
		return p.done(o, fmt.Sprintf("%s group %s: %s", verb, name, strings.Join(names, ", ")))
	})
}

func runGroupListMembers(ctx context.Context, e *env, args []string) error {
	inv := newInvocation(&cmdSpec{
		group: "group", sub: "list-members", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "list a group's direct members",
		desc: `
List the direct members of the group NAME, one per line: the member's name
for people, service accounts and groups of this directory, else its DN. With
no members, a notice goes to standard error and nothing to standard output.
With -o json: an array of {"name": NAME, "dn": DN}.`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group list-members demo_group --name idm_admin"},
	})
	if err := inv.parse(e, args); err != nil {
		return err
	}
	return inv.withClient(ctx, e, func(c *admin.Client) error {
		name := inv.args[0]
		dns, err := c.ListMembers(ctx, name)
		if err != nil {
			return err
		}
		return inv.printer(e, c).members(name, dns)
	})
}

func runGroupDelete(ctx context.Context, e *env, args []string) error {
	inv := newInvocation(&cmdSpec{
		group: "group", sub: "delete", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "delete a group",
		desc: `
Delete the group NAME. Its members stay; they are only no longer members of
it. Give the service accounts it manages another manager first, with
"service-account update --entry-managed-by".`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group delete demo_group --name idm_admin"},
	})
	if err := inv.parse(e, args); err != nil {
		return err
	}
	return inv.withClient(ctx, e, func(c *admin.Client) error {
		name := inv.args[0]
		if err := c.DeleteGroup(ctx, name); err != nil {
			return err
		}
		return inv.printer(e, c).done(outcome{Result: "deleted", Kind: "group", Name: name}, "deleted group "+name)
	})
}
