package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Annotations of a command that its help shows.
const (
	// AnnotationEnvironment is the "Environment:" section: lines of
	// "  VARIABLE  meaning", each ending in a newline.
	AnnotationEnvironment = "environment"
	// AnnotationExit replaces the default "Exit status:" sentence.
	AnnotationExit = "exit"
)

// WriteHelp writes a command's manual: usage line, description (with its
// arguments), then for a group its subcommands, for a command its flags,
// environment, examples and exit status. The root's help lists the
// commands by cobra group.
func WriteHelp(w io.Writer, c *cobra.Command) {
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
	if env := c.Annotations[AnnotationEnvironment]; env != "" {
		fmt.Fprintf(w, "\nEnvironment:\n%s", env)
	}
	if c.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	exit := "0 on success, 1 when the operation failed, 2 for bad arguments."
	if s := c.Annotations[AnnotationExit]; s != "" {
		exit = s
	}
	fmt.Fprintf(w, "\nExit status:\n  %s\n", exit)
}

// helpFlags lists a command's flags for its help in one table: its own,
// then those it inherits from its group, then -h.
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
	fmt.Fprintf(w, "%s: %s\n\nUsage: %s\n", root.Name(), root.Short, root.UseLine())
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
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", root.Name())
}

// Examples indents example command lines for cobra's Example field.
func Examples(lines ...string) string {
	return "  " + strings.Join(lines, "\n  ")
}

// Description is a command's description followed by the table of its
// positional arguments (name, meaning; a meaning may span lines), for
// cobra's Long field.
func Description(desc string, args [][2]string) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(desc) + "\n")
	if len(args) > 0 {
		b.WriteString("\nArguments:\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, a := range args {
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
