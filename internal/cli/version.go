package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the line a command's --version and version subcommand print:
// "NAME VERSION (commit C[, modified], GOVERSION OS/ARCH)". version and
// commit are what the build set (-ldflags "-X main.version=..."); the Go
// build information fills in a version "dev" (go install module@version)
// and the VCS commit and its modified flag, or "unknown" without them
// (go build -buildvcs=false, or a build outside a git checkout).
func Version(name, version, commit string) string {
	v, c, modified := version, commit, false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	if modified {
		c += ", modified"
	}
	return fmt.Sprintf("%s %s (commit %s, %s %s/%s)", name, v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
