package main

import (
	"fmt"

	"github.com/rs/zerolog"
)

// parseLevel reads --log-level.
func parseLevel(s string) (zerolog.Level, error) {
	lvl, err := zerolog.ParseLevel(s)
	if err != nil || s == "" {
		return 0, fmt.Errorf("invalid value %q: want debug, info, warn or error", s)
	}
	return lvl, nil
}

// resolveLogFormat turns --log-format auto into console when stderr is a
// terminal and json otherwise; other values pass through.
func resolveLogFormat(e *env, format string) string {
	if format != "auto" && format != "" {
		return format
	}
	if e.stderrTerminal != nil && e.stderrTerminal() {
		return "console"
	}
	return "json"
}
