package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/admin"
	"github.com/ldapd/ldapd/admin/output"
	"github.com/ldapd/ldapd/internal/cli"
)

// This file holds the client commands' part of ldapd's command line: the
// description and run-time state of the client commands (service-account,
// person, group) and the flags their groups share. The conventions every
// command follows (help layout, usage errors, flag errors) are
// internal/cli's; conventions applies them to ldapd's tree.
//
// Flags may come before, between or after positionals, as in
//
//	ldapd service-account api-token status --name demo_user demo_service
//	ldapd service-account create demo_service "Demonstration Service" demo_group --name idm_admin
//
// and "--" ends the flags (pflag's rules). -h and --help work on every
// command, even next to a bad flag.

// conventions applies internal/cli's conventions to the whole tree, adds
// --version to the root and the shells' completion of flag values
// (completeValues). args is the command line, to honour --help next to a
// bad flag.
func conventions(root *cobra.Command, args []string) {
	root.Flags().Bool("version", false, "print the version and commit")
	cli.Conventions(root, args, completeValues)
}

// cmdSpec describes a client command, for parsing and for its help.
type cmdSpec struct {
	name     string      // "generate"
	usage    string      // what follows the name: "ACCOUNT_ID LABEL [EXPIRY] [--rw] --name NAME"
	summary  string      // one line
	desc     string      // paragraphs, wrapped by hand
	args     [][2]string // positional name and meaning
	examples []string    // command lines, with "# comment" lines allowed
	min, max int         // positional count; max < 0: unlimited
	// check, if set, checks the arguments and flags further, before any
	// password is asked or connection made.
	check func(*invocation) error
}

// invocation is a client command being run: its shared flags, once
// checked its positional arguments, and once connected the printer of its
// results.
type invocation struct {
	cmd    *cobra.Command
	client *clientFlags
	args   []string
	out    *output.Printer
}

// argNames are the names of the positional arguments.
func (s *cmdSpec) argNames() []string {
	names := make([]string, len(s.args))
	for i, a := range s.args {
		names[i] = a[0]
	}
	return names
}

// clientGroup gives the group (service-account, person, group) the flags
// its client commands share, as persistent flags: they may come before the
// subcommand too.
func clientGroup(cf *clientFlags, g *cobra.Command) *cobra.Command {
	g.PersistentFlags().SortFlags = false
	cf.register(g.PersistentFlags())
	return g
}

// clientCommand makes a client command: own registers the command's own
// flags (listed before the shared ones, cf, of its clientGroup); once the
// number of arguments, the shared flags and s.check pass, run runs it
// with a client connected and authenticated as --name (withClient).
func clientCommand(e *env, cf *clientFlags, s *cmdSpec, own func(*pflag.FlagSet), run func(context.Context, *invocation, *admin.Client) error) *cobra.Command {
	inv := &invocation{client: cf}
	inv.cmd = &cobra.Command{
		Use: s.name + " " + s.usage, Short: s.summary, Long: cli.Description(s.desc, s.args), Example: cli.Examples(s.examples...),
		Annotations: map[string]string{cli.AnnotationEnvironment: clientEnvHelp},
		Args:        cli.Positional(s.argNames(), s.min, s.max),
		RunE: func(c *cobra.Command, args []string) error {
			if err := inv.client.check(); err != nil {
				return inv.usageErr("%v", err)
			}
			inv.args = args
			if s.check != nil {
				if err := s.check(inv); err != nil {
					return err
				}
			}
			ctx := c.Context()
			return inv.withClient(ctx, e, func(cl *admin.Client) error { return run(ctx, inv, cl) })
		},
	}
	inv.cmd.Flags().SortFlags = false
	if own != nil {
		own(inv.cmd.Flags())
	}
	return inv.cmd
}

// printer prints the command's results in its -o format on e's streams,
// naming DNs as c does.
func (inv *invocation) printer(e *env, c *admin.Client) *output.Printer {
	return &output.Printer{Format: inv.client.output, Stdout: e.stdout, Stderr: e.stderr, Loc: time.Local, Name: c.DisplayName}
}

// done prints o (output.Printer.Done) unless err, the error of the change,
// is set.
func (inv *invocation) done(err error, o output.Outcome) error {
	if err != nil {
		return err
	}
	return inv.out.Done(o)
}

// usageErr is a usage error of the command being run.
func (inv *invocation) usageErr(format string, a ...any) error {
	return cli.UsageError(inv.cmd, format, a...)
}

// arg returns positional i, or "" if absent (optional arguments).
func (inv *invocation) arg(i int) string {
	if i < len(inv.args) {
		return inv.args[i]
	}
	return ""
}

// showEntry is the run of the get command of kind k: it prints the entry
// named by the first argument.
func showEntry(k admin.Kind) func(context.Context, *invocation, *admin.Client) error {
	return func(ctx context.Context, inv *invocation, c *admin.Client) error {
		e, err := c.Get(ctx, k, inv.args[0])
		if err != nil {
			return err
		}
		return inv.out.Entry(e)
	}
}

// displayNameSet checks that positional i, a DISPLAY_NAME, is not empty.
func displayNameSet(i int) func(*invocation) error {
	return func(inv *invocation) error {
		if inv.args[i] == "" {
			return inv.usageErr("DISPLAY_NAME must not be empty")
		}
		return nil
	}
}
