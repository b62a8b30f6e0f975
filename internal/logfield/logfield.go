// Package logfield bounds what a client sends before it reaches a log line.
//
// # Basics
//
// A bind name, a DN, an attribute name or an error message that quotes one
// of them can be as long as a request (4 MiB), and the JSON log escapes
// control bytes into six, so logging it whole turns one request into tens
// of megabytes of log. Every such string goes through Clip (or ClipErr)
// first: at most Max bytes of it are logged, followed by how many bytes
// were left out, so a line still shows what the client sent and that it
// was long.
//
// # Caveats
//
// Clip is for logs only: never compare, store or answer with its result.
// Strings the server itself produces (result codes, causes, token IDs,
// DNs read from the store) need no clipping.
package logfield

import (
	"strconv"
	"unicode/utf8"
)

// Max is the most bytes of one client-supplied string a log line carries.
const Max = 256

// Clip returns s when it is at most Max bytes long; otherwise its first
// Max bytes (fewer, so as not to split a UTF-8 sequence) followed by
// "…(+N bytes)", N being the bytes left out.
func Clip(s string) string {
	if len(s) <= Max {
		return s
	}
	n := Max
	for n > Max-utf8.UTFMax && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…(+" + strconv.Itoa(len(s)-n) + " bytes)"
}

// ClipErr returns an error whose message is Clip(err.Error()) and which
// unwraps to err; nil for nil.
func ClipErr(err error) error {
	if err == nil {
		return nil
	}
	return clipped{err}
}

type clipped struct{ err error }

func (c clipped) Error() string { return Clip(c.err.Error()) }
func (c clipped) Unwrap() error { return c.err }
