package main

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
)

// The "posix" subcommands of person and group: RFC 2307 identity data for
// nslcd, sssd and other clients of getent passwd / getent group.

func personPosixCmd(e *env, cf *clientFlags) *cobra.Command {
	var shell string
	var home string
	var group string
	return clientCommand(e, cf, &cmdSpec{
		name: "posix", min: 1, max: 1,
		usage:   "NAME [--shell SHELL] [--home DIR] [--primary-group GROUP] --name NAME",
		summary: "give a person a uidNumber, gidNumber, home and shell",
		desc: `
Make the person NAME a POSIX account (auxiliary class posixAccount), so that
nslcd, sssd and other RFC 2307 clients list it in "getent passwd". The server
allocates a uidNumber from its uid range (ldapd serve --uid-range, default
10000-60000), never reusing a number, and sets gidNumber to the same number
(a user private group) unless --primary-group names a POSIX group,
homeDirectory to /home/NAME unless --home, loginShell to /bin/bash unless
--shell, and gecos to the display name. On a person that already is POSIX,
only the given flags change. Prints the person as "person get" does.`,
		args: [][2]string{{"NAME", "the person's name, or spn"}},
		examples: []string{
			"ldapd person posix demo_user --name idm_admin",
			"ldapd person posix demo_user --shell /bin/zsh --primary-group demo_group --name idm_admin",
			"getent passwd demo_user   # with nslcd pointed at ldapd",
		},
	}, func(fs *pflag.FlagSet) {
		fs.StringVar(&shell, "shell", "", "login shell (loginShell), e.g. /bin/zsh")
		fs.StringVar(&home, "home", "", "home directory (homeDirectory)")
		fs.StringVar(&group, "primary-group", "", "a POSIX group whose gidNumber becomes the person's")
	}, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		p, err := c.MakePersonPosix(ctx, inv.args[0], admin.PosixOptions{Shell: shell, Home: home, PrimaryGroup: group})
		if err != nil {
			return err
		}
		inv.out.Notice("person %s is POSIX: uidNumber %s, gidNumber %s", p.Name, p.Entry.Value("uidNumber"), p.Entry.Value("gidNumber"))
		return inv.out.Entry(p.Entry)
	})
}

func groupPosixCmd(e *env, cf *clientFlags) *cobra.Command {
	return clientCommand(e, cf, &cmdSpec{
		name: "posix", min: 1, max: 1,
		usage:   "NAME --name NAME",
		summary: "give a group a gidNumber and memberUid",
		desc: `
Make the group NAME a POSIX group (auxiliary class posixGroup), so that RFC
2307 clients list it in "getent group". The server allocates a gidNumber from
its gid range (ldapd serve --gid-range, default 10000-60000), never reusing a
number, and from then on keeps memberUid (the names of the members) in step
with member (their DNs). Prints the group as "group get" does.`,
		args: [][2]string{{"NAME", "the group's name"}},
		examples: []string{
			"ldapd group posix demo_group --name idm_admin",
			"getent group demo_group   # with nslcd pointed at ldapd",
		},
	}, nil, func(ctx context.Context, inv *invocation, c *admin.Client) error {
		g, err := c.MakeGroupPosix(ctx, inv.args[0])
		if err != nil {
			return err
		}
		inv.out.Notice("group %s is POSIX: gidNumber %s", g.Name, g.Entry.Value("gidNumber"))
		return inv.out.Entry(g.Entry)
	})
}
