package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
	"github.com/ldapd/ldapd/internal/cli"
)

func groupCmd(e *env) *cobra.Command {
	cf := &clientFlags{}
	return clientGroup(cf, cli.Group("group", "manage groups", `
Manage groups, over LDAP, as the account named by --name. A group is an entry
cn=NAME,ou=groups under the base DN (class groupOfNames) whose member values
are DNs; the server keeps memberOf on every member, nested groups resolved.
Members of idm_group_admins (idm_admin by default) may manage groups.`,
		groupCreateCmd(e, cf),
		groupGetCmd(e, cf),
		groupAddMembersCmd(e, cf),
		groupRemoveMembersCmd(e, cf),
		groupListMembersCmd(e, cf),
		groupDeleteCmd(e, cf),
		groupPosixCmd(e, cf),
	))
}

const memberHelp = `a person, a service account or a group: a bare name, an spn
(name@idm.example.com) or a DN`

func groupCreateCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "create", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "create an empty group",
		desc: `
Create the empty group NAME (cn=NAME,ou=groups under the base DN). Add
members with "group add-members".`,
		args: [][2]string{{"NAME", "the group's name (its cn)"}},
		examples: []string{
			"ldapd group create demo_group --name idm_admin",
			"ldapd group add-members demo_group demo_user --name idm_admin",
		},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		dn, err := c.CreateGroup(ctx, inv.args[0])
		return inv.done(err, output.Outcome{Result: "created", Kind: "group", Name: inv.args[0], DN: dn})
	})
}

func groupGetCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "get", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "show a group",
		desc: `
Show the group NAME: its DN, then one "attribute: value" line per value (its
attributes, with member, entryUUID and memberOf), attributes in alphabetical
order. With -o json: {"dn": DN, "attributes": {NAME: [VALUES]}}.`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group get demo_group --name idm_admin"},
	}, nil, showEntry(admin.KindGroup))
}

func groupAddMembersCmd(e *env, cf *clientFlags) *cobra.Command {
	return changeMembersCmd(e, cf, true, &cmdSpec{
		name: "add-members", min: 2, max: -1,
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

func groupRemoveMembersCmd(e *env, cf *clientFlags) *cobra.Command {
	return changeMembersCmd(e, cf, false, &cmdSpec{
		name: "remove-members", min: 2, max: -1,
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

func changeMembersCmd(e *env, cf *clientFlags, add bool, spec *cmdSpec) *cobra.Command {
	return clientCommand(e, cf, spec, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		change := c.RemoveMembers
		if add {
			change = c.AddMembers
		}
		ch, err := change(ctx, inv.args[0], inv.args[1:])
		if err != nil {
			return err
		}
		return inv.out.MembersChanged(inv.args[0], add, ch)
	})
}

func groupListMembersCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "list-members", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "list a group's direct members",
		desc: `
List the direct members of the group NAME, one per line: the member's name
for people, service accounts and groups of this directory, else its DN. With
no members, a notice goes to standard error and nothing to standard output.
With -o json: an array of {"name": NAME, "dn": DN}.`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group list-members demo_group --name idm_admin"},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		dns, err := c.ListMembers(ctx, inv.args[0])
		if err != nil {
			return err
		}
		return inv.out.Members(inv.args[0], dns)
	})
}

func groupDeleteCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "delete", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "delete a group",
		desc: `
Delete the group NAME. Its members stay; they are only no longer members of
it. Give the service accounts it manages another manager first, with
"service-account update --entry-managed-by".`,
		args:     [][2]string{{"NAME", "the group's name"}},
		examples: []string{"ldapd group delete demo_group --name idm_admin"},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		return inv.done(c.DeleteGroup(ctx, inv.args[0]), output.Outcome{Result: "deleted", Kind: "group", Name: inv.args[0]})
	})
}
