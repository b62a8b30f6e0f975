package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/pflag"

	"github.com/ldapd/ldapd/acl"
	"github.com/ldapd/ldapd/certs"
	"github.com/ldapd/ldapd/idm"
)

// A configuration file is TOML whose top-level keys are the long names of
// the flags of `ldapd serve` (ldaps = ":636", allow-insecure-bind = false,
// max-connections = 4096, idle-timeout = "5m"). Each option is set by, in
// order of precedence: its flag, its environment variable (LDAPD_ and the
// flag's name in upper case with '-' as '_'), the file, its default. So
// that this holds for every option, including those added later, the
// environment and the file are applied to the parsed pflag set generically
// (a few dozen lines here do what viper or koanf would, keeping the line
// numbers and checks of the errors below), and config_test.go checks that
// every serve flag documents its environment variable. The other commands
// bind the variables they read the same way (bindEnv).

// envName is the environment variable of a serve flag.
func envName(flagName string) string {
	return "LDAPD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envAnnotation is the pflag annotation naming a flag's variable.
const envAnnotation = "ldapd-env"

// bindEnv makes the environment variable set the flag when the flag is not
// on the command line (applyEnv).
func bindEnv(fs *pflag.FlagSet, flag, variable string) {
	if err := fs.SetAnnotation(flag, envAnnotation, []string{variable}); err != nil {
		panic(err) // a flag name misspelt in the code
	}
}

// configError is a problem in the configuration file, at a line.
type configError struct {
	path string
	line int // 0: unknown
	key  string
	msg  string
}

func (e *configError) Error() string {
	where := "config " + e.path
	if e.line > 0 {
		where += fmt.Sprintf(" line %d", e.line)
	}
	if e.key != "" {
		return fmt.Sprintf("%s: %s: %s", where, e.key, e.msg)
	}
	return where + ": " + e.msg
}

// withEnv binds every flag of fs to the variable envName gives it, and
// returns fs.
func withEnv(fs *pflag.FlagSet) *pflag.FlagSet {
	fs.VisitAll(func(f *pflag.Flag) { bindEnv(fs, f.Name, envName(f.Name)) })
	return fs
}

// applyConfigFile sets the options of fs that the TOML file at path
// names, except those given as flags on the command line or through their
// environment variables. An unknown key, a value of the wrong type or an
// invalid value stops with the line and the reason; so does a syntax
// error. An empty path does nothing. noFile lists flags that must not come
// from a file (config itself).
func applyConfigFile(fs *pflag.FlagSet, path string, noFile ...string) error {
	if path == "" {
		return nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var raw map[string]toml.Primitive
	md, err := toml.Decode(string(src), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return &configError{path: path, line: pe.Position.Line, msg: pe.Message}
		}
		return &configError{path: path, msg: err.Error()}
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keyLine(src, keys[i]) < keyLine(src, keys[j]) })
	for _, k := range keys {
		fail := func(format string, a ...any) error {
			return &configError{path: path, line: keyLine(src, k), key: k, msg: fmt.Sprintf(format, a...)}
		}
		f := fs.Lookup(k)
		if f == nil || len(f.Annotations[envAnnotation]) == 0 || containsString(noFile, k) {
			return fail("unknown key (the keys are the long flag names of ldapd serve: see docs/configuration.md)")
		}
		want := tomlType(f)
		if got := md.Type(k); got != want {
			return fail("want a TOML %s, got %s", strings.ToLower(want), strings.ToLower(got))
		}
		var v tomlText
		if err := md.PrimitiveDecode(raw[k], &v); err != nil {
			return fail("%v", err)
		}
		if err := checkOption(k, string(v)); err != nil {
			return fail("%v", err)
		}
		if want == "String" && isDuration(f) {
			if _, err := time.ParseDuration(string(v)); err != nil {
				return fail("invalid value %q: want a duration such as \"90s\", \"5m\" or \"1h30m\"", string(v))
			}
		}
		if f.Changed {
			continue // the flag or the environment (applyEnv) wins
		}
		if err := fs.Set(k, string(v)); err != nil {
			return fail("invalid value %q: %v", string(v), err)
		}
	}
	return nil
}

// applyEnv sets each option of fs that is not on the command line from
// its environment variable (bindEnv) when that variable is set, even to
// the empty string: LDAPD_LDAPS= disables LDAPS whatever the file says.
// A value the option does not accept stops start-up naming the variable,
// as the file's errors name the line; an empty value is accepted only by
// string options. It also runs checkOption on the options given as flags,
// so every source is checked the same way.
func applyEnv(e *env, fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		if f.Changed {
			if cerr := checkOption(f.Name, f.Value.String()); cerr != nil {
				err = fmt.Errorf("--%s: %v: %w", f.Name, cerr, errUsage)
			}
			return
		}
		if len(f.Annotations[envAnnotation]) == 0 {
			return
		}
		name := f.Annotations[envAnnotation][0]
		v, ok := e.lookup(name)
		if !ok {
			return
		}
		fail := func(format string, a ...any) {
			err = fmt.Errorf("environment %s: %s: %w", name, fmt.Sprintf(format, a...), errUsage)
		}
		want := map[string]string{"Bool": "true or false", "Integer": "a whole number"}[tomlType(f)]
		if isDuration(f) {
			want = `a duration such as "90s" or "5m"`
		}
		if v == "" && want != "" {
			fail("set but empty: want %s, or unset it to use the file's value or the default", want)
			return
		}
		if cerr := checkOption(f.Name, v); cerr != nil {
			fail("%v", cerr)
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			fail("invalid value %q: want %s", v, want)
		}
	})
	return err
}

// isDuration reports whether a flag takes a time.Duration.
func isDuration(f *pflag.Flag) bool { return f.Value.Type() == "duration" }

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// tomlText receives a TOML string, boolean or integer as text.
type tomlText string

func (t *tomlText) UnmarshalText(b []byte) error {
	*t = tomlText(b)
	return nil
}

// tomlType is the TOML type a flag's value takes in the file (as
// toml.MetaData.Type names it).
func tomlType(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return "Bool"
	case "int", "int64", "uint", "uint64":
		return "Integer"
	case "float64":
		return "Float"
	}
	return "String" // durations too: "30s", as time.ParseDuration reads them
}

// keyLine finds the line on which a top-level key is set (0 if not found):
// the first line that starts with the key, bare or quoted, followed by '='
// or '.', or that opens the table [key].
func keyLine(src []byte, key string) int {
	sc := bufio.NewScanner(bytes.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			line = strings.TrimSpace(strings.TrimLeft(line, "["))
		}
		for _, k := range []string{key, `"` + key + `"`, "'" + key + "'"} {
			if rest, ok := strings.CutPrefix(line, k); ok {
				rest = strings.TrimSpace(rest)
				if rest != "" && strings.ContainsRune("=.]", rune(rest[0])) {
					return n
				}
			}
		}
	}
	return 0
}

// checkOption validates the options whose values the flag package does not
// check itself; the same checks run on flags and environment variables
// when the server starts.
func checkOption(name, v string) error {
	switch name {
	case "log-level":
		if _, err := parseLevel(v); err != nil {
			return err
		}
	case "log-format":
		switch v {
		case "auto", "json", "console":
		default:
			return fmt.Errorf("invalid value %q: want auto, json or console", v)
		}
	case "tls-key-exchange":
		if _, err := certs.ParseKeyExchange(v); err != nil {
			return fmt.Errorf("invalid value %q: want %s or %s", v, certs.KeyExchangeHybrid, certs.KeyExchangeClassical)
		}
	case "max-tokens-per-account":
		if n, err := strconv.Atoi(v); err != nil || n < 1 {
			return fmt.Errorf("invalid value %q: want a whole number of at least 1", v)
		}
	case "uid-range", "gid-range":
		if v == "" {
			return nil // the default
		}
		if _, err := idm.ParseIDRange(v); err != nil {
			return err
		}
	case "anonymous-read":
		if _, err := acl.ParseAnonymousRead(v); err != nil {
			return err
		}
	case "base-dn":
		if v == "" {
			return nil // from --domain
		}
		if _, err := idm.ParseBaseDN(v); err != nil {
			return err
		}
	case "store":
		switch v {
		case storeBolt, storeEtcd:
		default:
			return fmt.Errorf("invalid value %q: want %s or %s", v, storeBolt, storeEtcd)
		}
	case "data":
		if v == "" {
			return errors.New("empty: want the data directory")
		}
	case "ldaps", "ldap", "metrics", "https":
		if v == "" {
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("invalid address %q: want HOST:PORT or :PORT (%v)", v, err)
		}
	}
	return nil
}
