package ldapserver

import (
	"strconv"
	"time"
)

// maxExactMillis bounds the durations appendMillis writes: below it (11.5
// days) a number of nanoseconds over a million has at most 15 significant
// digits, so its exact decimal is also the shortest that round-trips as a
// float64, which is what zerolog's Dur writes.
const maxExactMillis = 1e15 * time.Nanosecond

// appendMillis appends d, at least 0 and below maxExactMillis, in
// milliseconds as a JSON number: the access line's documented "duration"
// (docs/operations.md), the same text zerolog's Dur writes with its default
// settings (a float64 of milliseconds, shortest form) but from integers,
// without formatting a float for every operation.
func appendMillis(dst []byte, d time.Duration) []byte {
	ms, ns := int64(d/time.Millisecond), int64(d%time.Millisecond)
	dst = strconv.AppendInt(dst, ms, 10)
	if ns == 0 {
		return dst
	}
	frac := [7]byte{'.'}
	for i := 6; i > 0; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := len(frac)
	for frac[n-1] == '0' {
		n--
	}
	return append(dst, frac[:n]...)
}
