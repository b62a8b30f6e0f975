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
//     with status 2 (ErrUsage).
//
// It holds no state of its own: the environment is passed in (a lookup
// function), so tests run with their own.
package cli
