package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// This file holds what every command shares on top of cobra: the help
// layout, usage errors, command groups, and the description and run-time
// state of the client commands (service-account, person, group).
//
// Flags may come before, between or after positionals, as in
//
//	ldapd service-account api-token status --name demo_user demo_service
//	ldapd service-account create demo_service "Demonstration Service" demo_group --name idm_admin
//
// and "--" ends the flags (pflag's rules). -h and --help work on every
// command, even next to a bad flag.

// conventions applies the house rules to the whole tree: the help layout
// (writeHelp), a -h/--help flag that says "show this help", usage lines
// written in full by each command, and flag errors as usage errors. args
// is the command line, to honour --help next to a bad flag.
func conventions(root *cobra.Command, args []string) {
	root.Flags().Bool("version", false, "print the version and commit")
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { writeHelp(c.OutOrStdout(), c) })
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError(c, err, args) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		c.Flags().BoolP("help", "h", false, "show this help")
		completeValues(c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// flagError turns a flag parsing error into a usage error, or shows the
// help when the command line asks for it anyway.
func flagError(c *cobra.Command, err error, args []string) error {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" {
			writeHelp(c.OutOrStdout(), c)
			return errHelpShown
		}
	}
	if !c.HasParent() && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return unknownCommand(c, args[0]) // not a flag error of ldapd
	}
	var unknown *pflag.NotExistError
	var noValue *pflag.ValueRequiredError
	switch {
	case errors.As(err, &unknown) && unknown.GetSpecifiedShortnames() == "":
		err = fmt.Errorf("unknown flag --%s", unknown.GetSpecifiedName())
	case errors.As(err, &unknown):
		err = fmt.Errorf("unknown flag -%s", unknown.GetSpecifiedName())
	case errors.As(err, &noValue) && noValue.GetSpecifiedShortnames() != "":
		err = fmt.Errorf("flag -%s needs a value", noValue.GetSpecifiedName())
	case errors.As(err, &noValue):
		err = fmt.Errorf("flag --%s needs a value", noValue.GetSpecifiedName())
	}
	return usageError(c, "%v", err)
}

// usageError is a bad-arguments error (exit status 2) that ends with the
// command's synopsis; run prints it after "ldapd COMMAND: ", and a
// subcommand's message starts with its name.
func usageError(c *cobra.Command, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if path := strings.SplitN(c.CommandPath(), " ", 3); len(path) == 3 {
		msg = path[2] + ": " + msg
	}
	return fmt.Errorf("%s\n%w: %s\n(see %s --help)", msg, errUsage, c.UseLine(), c.CommandPath())
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(c, "unexpected argument %q", args[0])
	}
	return nil
}

// commandGroup is a command that only holds subcommands; run alone, or
// with an unknown subcommand, it is a usage error.
func commandGroup(name, summary, desc string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use: name + " SUBCOMMAND [ARGS] [FLAGS]", Short: summary, Long: desc, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var names []string
			for _, s := range c.Commands() {
				names = append(names, s.Name())
			}
			switch {
			case len(args) == 0:
				return usageError(c, "missing subcommand (one of: %s)", strings.Join(names, ", "))
			case args[0] == "help":
				writeHelp(c.OutOrStdout(), c)
				return errHelpShown
			}
			hint := ""
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				hint = "; did you mean " + s[0] + "?"
			}
			return usageError(c, "unknown subcommand %q (one of: %s%s)", args[0], strings.Join(names, ", "), hint)
		},
	}
	g.AddCommand(subs...)
	return g
}

// writeHelp writes a command's manual: usage line, description (with its
// arguments), then for a group its subcommands, for a command its flags,
// environment, examples and exit status.
func writeHelp(w io.Writer, c *cobra.Command) {
	if !c.HasParent() {
		writeRootHelp(w, c)
		return
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", c.UseLine(), strings.TrimSpace(c.Long))
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(w, "\nSubcommands:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() {
				fmt.Fprintf(tw, "  %s\t%s\n", s.Name(), s.Short)
			}
		}
		tw.Flush()
		fmt.Fprintf(w, "\nRun '%s SUBCOMMAND --help' for its arguments, flags and examples.\n", c.CommandPath())
		return
	}
	fmt.Fprintf(w, "\nFlags:\n%s", helpFlags(c).FlagUsages())
	fmt.Fprintf(w, "Flags may come before, between or after the arguments; after --, everything is an argument.\n")
	if env := c.Annotations["environment"]; env != "" {
		fmt.Fprintf(w, "\nEnvironment:\n%s", env)
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	exit := "0 on success, 1 when the operation failed, 2 for bad arguments."
	if s := c.Annotations["exit"]; s != "" {
		exit = s
	}
	fmt.Fprintf(w, "\nExit status:\n  %s\n", exit)
}

// helpFlags lists a command's flags for its help in one table: its own,
// then those of its group (clientGroup), then -h.
func helpFlags(c *cobra.Command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	fs.SortFlags = c.Flags().SortFlags
	add := func(f *pflag.Flag) {
		if f.Name != "help" {
			fs.AddFlag(f)
		}
	}
	c.LocalFlags().VisitAll(add)
	inherited := c.InheritedFlags()
	inherited.SortFlags = false
	inherited.VisitAll(add)
	fs.AddFlag(c.Flags().Lookup("help"))
	return fs
}

func writeRootHelp(w io.Writer, root *cobra.Command) {
	fmt.Fprintf(w, "ldapd: %s\n\nUsage: %s\n", root.Short, root.UseLine())
	for _, g := range root.Groups() {
		fmt.Fprintf(w, "\n%s\n", g.Title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range root.Commands() {
			if c.GroupID == g.ID && c.IsAvailableCommand() {
				fmt.Fprintf(tw, "  %s\t%s\n", c.Name(), c.Short)
			}
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nFlags:\n%s", root.LocalFlags().FlagUsages())
	fmt.Fprintln(w, "\nRun 'ldapd COMMAND --help' for a command's flags.")
}

// examples indents example command lines for cobra's Example field.
func examples(lines ...string) string {
	return "  " + strings.Join(lines, "\n  ")
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
}

// long is the description followed by the table of arguments.
func (s *cmdSpec) long() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(s.desc) + "\n")
	if len(s.args) > 0 {
		b.WriteString("\nArguments:\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, a := range s.args {
			for i, line := range strings.Split(a[1], "\n") {
				left := a[0]
				if i > 0 {
					left = ""
				}
				fmt.Fprintf(tw, "  %s\t%s\n", left, strings.TrimSpace(line))
			}
		}
		tw.Flush()
	}
	return b.String()
}

// invocation is a client command being run: its shared flags and, once
// checked, its positional arguments.
type invocation struct {
	cmd    *cobra.Command
	client *clientFlags
	args   []string
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
// flags (listed before the shared ones, cf, of its clientGroup), run runs it once the number of
// arguments and the shared flags are checked, before any password is
// asked or connection made.
func clientCommand(cf *clientFlags, s *cmdSpec, own func(*pflag.FlagSet), run func(context.Context, *invocation) error) *cobra.Command {
	inv := &invocation{client: cf}
	inv.cmd = &cobra.Command{
		Use: s.name + " " + s.usage, Short: s.summary, Long: s.long(), Example: examples(s.examples...),
		Annotations: map[string]string{"environment": clientEnvHelp},
		Args:        cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) < s.min {
				var missing []string
				for _, a := range s.args[len(args):s.min] {
					missing = append(missing, a[0])
				}
				return inv.usageErr("missing %s", strings.Join(missing, " and "))
			}
			if s.max >= 0 && len(args) > s.max {
				return inv.usageErr("too many arguments: %s", quoteAll(args[s.max:]))
			}
			if err := inv.client.check(); err != nil {
				return inv.usageErr("%v", err)
			}
			inv.args = args
			return run(c.Context(), inv)
		},
	}
	inv.cmd.Flags().SortFlags = false
	if own != nil {
		own(inv.cmd.Flags())
	}
	return inv.cmd
}

// usageErr is a usage error of the command being run.
func (inv *invocation) usageErr(format string, a ...any) error {
	return usageError(inv.cmd, format, a...)
}

// arg returns positional i, or "" if absent (optional arguments).
func (inv *invocation) arg(i int) string {
	if i < len(inv.args) {
		return inv.args[i]
	}
	return ""
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}
