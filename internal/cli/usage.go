package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ErrUsage marks an error caused by bad arguments (exit status 2).
var ErrUsage = errors.New("usage")

// ErrHelpShown is returned by a command that printed its help on request
// (exit status 0).
var ErrHelpShown = errors.New("help shown")

// Conventions applies the house rules to the command tree under root: the
// help layout (WriteHelp), a -h/--help flag that says "show this help" on
// every command, usage lines written in full by each command, and flag
// errors as usage errors. args is the command line, to honour --help next
// to a bad flag. each, if given, is called on every command once its help
// flag is added.
//
// Flags may come before, between or after positionals, and "--" ends the
// flags (pflag's rules).
func Conventions(root *cobra.Command, args []string, each ...func(*cobra.Command)) {
	root.SetHelpFunc(func(c *cobra.Command, _ []string) { WriteHelp(c.OutOrStdout(), c) })
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return flagError(c, err, args) })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableFlagsInUseLine = true
		c.Flags().BoolP("help", "h", false, "show this help")
		for _, f := range each {
			f(c)
		}
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
			WriteHelp(c.OutOrStdout(), c)
			return ErrHelpShown
		}
	}
	if !c.HasParent() && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return UnknownCommand(c, args[0]) // not a flag error of the root
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
	return UsageError(c, "%v", err)
}

// UsageError is a bad-arguments error (ErrUsage) that ends with the
// command's synopsis; the caller prints it after "ldapd COMMAND: ", so a
// subcommand's message starts with its name.
func UsageError(c *cobra.Command, format string, a ...any) error {
	msg := fmt.Sprintf(format, a...)
	if path := strings.SplitN(c.CommandPath(), " ", 3); len(path) == 3 {
		msg = path[2] + ": " + msg
	}
	return fmt.Errorf("%s\n%w: %s\n(see %s --help)", msg, ErrUsage, c.UseLine(), c.CommandPath())
}

// NoArgs is cobra.NoArgs as a usage error.
func NoArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageError(c, "unexpected argument %q", args[0])
	}
	return nil
}

// Positional checks a command's positional arguments, as usage errors:
// at least min, the missing ones named from names ("missing NAME and
// LABEL"), and at most max (max < 0: no limit).
func Positional(names []string, min, max int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) < min {
			return UsageError(c, "missing %s", strings.Join(names[len(args):min], " and "))
		}
		if max >= 0 && len(args) > max {
			return UsageError(c, "too many arguments: %s", QuoteArgs(args[max:]))
		}
		return nil
	}
}

// QuoteArgs quotes each argument (%q) and joins them with spaces, to show
// a command line in a message.
func QuoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, s := range args {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}

// UnknownCommand is the usage error for "ROOT NAME" with no command NAME.
func UnknownCommand(root *cobra.Command, name string) error {
	hint := ""
	if s := root.SuggestionsFor(name); len(s) > 0 {
		hint = "did you mean " + s[0] + "? "
	}
	return fmt.Errorf("unknown command %q (%ssee %s --help): %w", name, hint, root.CommandPath(), ErrUsage)
}

// Group is a command that only holds subcommands; run alone, or with an
// unknown subcommand, it is a usage error.
func Group(name, summary, desc string, subs ...*cobra.Command) *cobra.Command {
	g := &cobra.Command{
		Use: name + " SUBCOMMAND [ARGS] [FLAGS]", Short: summary, Long: desc, Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var names []string
			for _, s := range c.Commands() {
				names = append(names, s.Name())
			}
			switch {
			case len(args) == 0:
				return UsageError(c, "missing subcommand (one of: %s)", strings.Join(names, ", "))
			case args[0] == "help":
				WriteHelp(c.OutOrStdout(), c)
				return ErrHelpShown
			}
			hint := ""
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				hint = "; did you mean " + s[0] + "?"
			}
			return UsageError(c, "unknown subcommand %q (one of: %s%s)", args[0], strings.Join(names, ", "), hint)
		},
	}
	g.AddCommand(subs...)
	return g
}
