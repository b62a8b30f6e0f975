// Package cli holds the conventions of ldapd's command line, on top of
// cobra and pflag, so that cmd/ldapd only declares its commands:
//
//   - where an option's value comes from (sources.go): its flag, its
//     environment variable (LDAPD_ and the flag's name in upper case, '-'
//     as '_'), the TOML configuration file, its default, in that order of
//     precedence (docs/configuration.md);
//   - the help layout (help.go): usage line, description, subcommands or
//     flags, environment, examples and exit status;
//   - usage errors (usage.go): bad arguments and flags, worded the same
//     way for every command, end with the command's synopsis and exit
//     with status 2 (ErrUsage);
//   - option values and feedback (progress.go): sizes such as 512MiB,
//     and the progress bar of a long command on a terminal.
//
// It holds no state of its own: the environment is passed in (a lookup
// function), so tests run with their own.
package cli
