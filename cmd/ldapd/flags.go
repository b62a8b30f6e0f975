package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// This file holds what the client commands (service-account, person, group)
// share: the interleaved flag parser, the description of a command and its
// help text, and the dispatch of a command group to its subcommands.

// splitArgs separates flags from positional arguments so that flags may
// come before, between or after positionals, as in
//
//	ldapd service-account api-token status --name demo_user demo_service
//	ldapd service-account create demo_service "Demonstration Service" demo_group --name idm_admin
//
// The standard flag package stops at the first positional; splitArgs
// reorders instead. A flag is -x or --x, with its value as --x=v or as the
// next argument (--x v); boolean flags take no separate value (--rw, or
// --rw=false). "--" ends the flags: everything after it is positional, so a
// positional may begin with '-'. A lone "-" is positional.
//
// It returns the flags in a normalized form for fs.Parse (--x=v), the
// positionals in order, and whether -h or --help appeared (help wins over
// any other error, so a user can always ask for help).
func splitArgs(fs *flag.FlagSet, args []string) (flags, positional []string, help bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, value, hasValue := strings.Cut(name, "=")
		if name == "h" || name == "help" {
			help = true
			continue
		}
		if err != nil {
			continue // keep scanning for --help
		}
		if name == "" || name[0] == '-' {
			err = fmt.Errorf("bad flag syntax %q", a)
			continue
		}
		f := fs.Lookup(name)
		switch {
		case f == nil:
			err = fmt.Errorf("unknown flag %s", flagName(name))
		case isBoolFlag(f) || hasValue:
			flags = append(flags, "--"+name+valueSuffix(value, hasValue))
		case i+1 < len(args):
			flags = append(flags, "--"+name+"="+args[i+1])
			i++
		default:
			err = fmt.Errorf("flag %s needs a value", flagName(name))
		}
	}
	return flags, positional, help, err
}

func valueSuffix(v string, has bool) string {
	if !has {
		return ""
	}
	return "=" + v
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// flagName writes a flag as users type it: -o, --output.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// cmdSpec describes a leaf command, for parsing and for its help.
type cmdSpec struct {
	group    string      // "service-account"
	sub      string      // "api-token generate"
	usage    string      // what follows the command: "ACCOUNT_ID LABEL [EXPIRY] [--rw] --name NAME"
	summary  string      // one line
	desc     string      // paragraphs, wrapped by hand
	args     [][2]string // positional name and meaning
	examples []string    // command lines, with "# comment" lines allowed
	min, max int         // positional count; max < 0: unlimited
}

func (s *cmdSpec) path() string { return s.group + " " + s.sub }

func (s *cmdSpec) synopsis() string { return "ldapd " + s.path() + " " + s.usage }

// usageErr is a bad-arguments error (exit status 2) that ends with the
// command's synopsis. main prints it after "ldapd GROUP: ".
func (s *cmdSpec) usageErr(format string, a ...any) error {
	return fmt.Errorf("%s: %s\n%w: %s\n(see ldapd %s --help)", s.sub, fmt.Sprintf(format, a...), errUsage, s.synopsis(), s.path())
}

// invocation is a leaf command being run: its flags and, once parsed, its
// positional arguments.
type invocation struct {
	spec   *cmdSpec
	fs     *flag.FlagSet
	client clientFlags
	args   []string
	own    []string // names of the command's own flags, for help
}

// newInvocation prepares the flag set with the flags every client command
// takes. The command adds its own with the own* methods before parse.
func newInvocation(spec *cmdSpec) *invocation {
	inv := &invocation{spec: spec, fs: flag.NewFlagSet(spec.path(), flag.ContinueOnError)}
	inv.fs.SetOutput(io.Discard)
	inv.client.register(inv.fs)
	return inv
}

func (inv *invocation) ownBool(name, usage string) *bool {
	inv.own = append(inv.own, name)
	return inv.fs.Bool(name, false, usage)
}

func (inv *invocation) ownString(name, usage string) *string {
	inv.own = append(inv.own, name)
	return inv.fs.String(name, "", usage)
}

// parse parses args. On -h/--help it prints the help to stdout and returns
// errHelpShown; bad flags, a wrong number of positionals, an unknown output
// format or a missing --name are usage errors.
func (inv *invocation) parse(e *env, args []string) error {
	flags, pos, help, err := splitArgs(inv.fs, args)
	if help {
		inv.help(e.stdout)
		return errHelpShown
	}
	if err != nil {
		return inv.spec.usageErr("%v", err)
	}
	if err := inv.fs.Parse(flags); err != nil {
		return inv.spec.usageErr("%v", err)
	}
	s := inv.spec
	if len(pos) < s.min {
		var missing []string
		for _, a := range s.args[len(pos):s.min] {
			missing = append(missing, a[0])
		}
		return s.usageErr("missing %s", strings.Join(missing, " and "))
	}
	if s.max >= 0 && len(pos) > s.max {
		return s.usageErr("too many arguments: %s", quoteAll(pos[s.max:]))
	}
	if err := inv.client.check(); err != nil {
		return s.usageErr("%v", err)
	}
	inv.args = pos
	return nil
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

// help writes the command's manual.
func (inv *invocation) help(w io.Writer) {
	s := inv.spec
	fmt.Fprintf(w, "Usage: %s [flags]\n\n", s.synopsis())
	fmt.Fprintf(w, "%s\n", strings.TrimSpace(s.desc))
	if len(s.args) > 0 {
		fmt.Fprintf(w, "\nArguments:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, a := range s.args {
			writeCell(tw, a[0], a[1])
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nFlags:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, name := range inv.own {
		writeFlagHelp(tw, inv.fs.Lookup(name))
	}
	for _, name := range clientFlagNames() {
		writeFlagHelp(tw, inv.fs.Lookup(name))
	}
	fmt.Fprintf(tw, "  -h, --help\tshow this help\n")
	tw.Flush()
	fmt.Fprintf(w, "Flags may come before, between or after the arguments; after --, everything is an argument.\n")
	fmt.Fprint(w, clientEnvHelp)
	if len(s.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, ex := range s.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
	fmt.Fprint(w, exitStatusHelp)
}

func writeFlagHelp(w io.Writer, f *flag.Flag) {
	valueName, usage := flag.UnquoteUsage(f)
	if isBoolFlag(f) {
		valueName = ""
	}
	names := "--" + f.Name
	if f.Name == "output" {
		names = "-o, --output"
	}
	if valueName != "" {
		names += " " + valueName
	}
	writeCell(w, names, usage)
}

// writeCell writes a two-column help line to a tabwriter; the text may
// span lines, continued in the second column.
func writeCell(w io.Writer, left, text string) {
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			left = ""
		}
		fmt.Fprintf(w, "  %s\t%s\n", left, strings.TrimSpace(line))
	}
}

const exitStatusHelp = `
Exit status:
  0 on success, 1 when the operation failed, 2 for bad arguments.
`

// subcommand is an entry of a command group.
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// dispatch runs the subcommand named by args[0] of the group (e.g.
// "service-account" or "service-account api-token"), or prints the group's
// help.
func dispatch(ctx context.Context, e *env, group, desc string, subs []subcommand, args []string) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	groupUsage := func(msg string) error {
		return fmt.Errorf("%s\n%w: ldapd %s SUBCOMMAND [ARGS] [FLAGS] (one of: %s; see ldapd %s --help)",
			msg, errUsage, group, strings.Join(names, ", "), group)
	}
	if len(args) == 0 {
		return groupUsage("missing subcommand")
	}
	switch args[0] {
	case "-h", "--help", "help":
		groupHelp(e.stdout, group, desc, subs)
		return errHelpShown
	}
	if strings.HasPrefix(args[0], "-") {
		return groupUsage(fmt.Sprintf("the subcommand must come first, before %s", args[0]))
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	return groupUsage(fmt.Sprintf("unknown subcommand %q", args[0]))
}

func groupHelp(w io.Writer, group, desc string, subs []subcommand) {
	fmt.Fprintf(w, "Usage: ldapd %s SUBCOMMAND [ARGS] [FLAGS]\n\n%s\n\nSubcommands:\n", group, strings.TrimSpace(desc))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range subs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'ldapd %s SUBCOMMAND --help' for its arguments, flags and examples.\n", group)
}
