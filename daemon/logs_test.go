package daemon

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// syncBuffer is a bytes.Buffer safe for the flushing goroutine, which
// reports each write on wrote.
type syncBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	wrote chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.wrote != nil {
		select {
		case b.wrote <- struct{}{}:
		default:
		}
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogBuffer: lines wait in memory (no write per line), come out in
// order on Close, at once with a warning or error line, and after the flush interval
// without anything else happening.
func TestLogBuffer(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out, time.Hour)
	log := zerolog.New(b)
	for i := range 1000 {
		log.Info().Int("n", i).Msg("access")
	}
	if out.String() != "" {
		t.Fatalf("written before a flush: %q...", out.String()[:min(80, len(out.String()))])
	}
	log.Warn().Msg("bind failed")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1001 || !strings.Contains(lines[0], `"n":0`) || !strings.Contains(lines[1000], "bind failed") {
		t.Fatalf("after a warning: %d lines, first %q, last %q", len(lines), lines[0], lines[len(lines)-1])
	}
	log.Info().Msg("access")
	log.Error().Msg("listener failed")
	if !strings.HasSuffix(out.String(), `"message":"listener failed"}`+"\n") {
		t.Fatalf("an error line was not written at once: ends %q", out.String()[len(out.String())-40:])
	}
	log.Info().Msg("last")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(out.String(), `"message":"last"}`+"\n") {
		t.Fatalf("Close did not flush: ends %q", out.String()[len(out.String())-40:])
	}

	timed := syncBuffer{wrote: make(chan struct{}, 1)}
	b = newLogBuffer(&timed, time.Millisecond)
	defer b.Close()
	soon := zerolog.New(b)
	soon.Info().Msg("soon")
	select {
	case <-timed.wrote:
	case <-time.After(10 * time.Second):
		t.Fatal("no flush 10 s after a line with a 1 ms interval")
	}
	if !strings.Contains(timed.String(), "soon") {
		t.Fatalf("timer flush wrote %q", timed.String())
	}
}

// TestLogBufferLargeBurst: more than the buffer holds goes out in order,
// no line split or lost.
func TestLogBufferLargeBurst(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out, time.Hour)
	log := zerolog.New(b)
	long := strings.Repeat("x", logBufferSize/3)
	for i := range 20 {
		log.Info().Int("n", i).Str("pad", long).Msg("")
	}
	log.Info().Str("huge", strings.Repeat("y", 2*logBufferSize)).Msg("")
	b.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 21", len(lines))
	}
	for i, l := range lines[:20] {
		if !strings.HasPrefix(l, `{"level":"info","n":`+strconv.Itoa(i)+`,`) {
			t.Fatalf("line %d is %.40q", i, l)
		}
	}
}

// BenchmarkAccessLog is what the default log level adds to an operation:
// one access line as ldapserver writes it, to a file through the buffer
// serve uses, and straight to the file (a write(2) per line) as before.
func BenchmarkAccessLog(b *testing.B) {
	for _, buffered := range []bool{false, true} {
		name := map[bool]string{false: "unbuffered", true: "buffered"}[buffered]
		b.Run(name, func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			var w io.Writer = f
			if buffered {
				lb := newLogBuffer(f, logFlushInterval)
				defer lb.Close()
				w = lb
			}
			log, err := newLogger(w, "info", "json")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					log.Info().Int32("msgid", 7).Str("op", "extended").Str("target", "1.3.6.1.4.1.4203.1.11.3").
						Str("identity", "token:0f3c2a9b bench").Int("code", 0).Dur("duration", 12*time.Microsecond).Send()
				}
			})
		})
	}
}

// TestStampHookAsZerolog: the "time" field the logger writes, formatted
// once per second, is the text zerolog's own timestamp writes for the same
// instant, across seconds and zones.
func TestStampHookAsZerolog(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	base := time.Date(2026, 11, 29, 16, 35, 7, 0, time.UTC)
	var times []time.Time
	for _, d := range []time.Duration{0, time.Millisecond, 999 * time.Millisecond, time.Second, time.Second + 1, 90 * time.Minute} {
		times = append(times, base.Add(d), base.Add(d).In(paris), base.Add(d).Local(), base.Add(d))
	}
	var i int
	h := &stampHook{now: func() time.Time { return times[i] }}
	var got, want bytes.Buffer
	log := zerolog.New(&got).Hook(h)
	plain := zerolog.New(&want)
	for i = range times {
		got.Reset()
		want.Reset()
		log.Info().Int("code", 0).Msg("m")
		plain.Info().Int("code", 0).Time(zerolog.TimestampFieldName, times[i]).Msg("m")
		if got.String() != want.String() {
			t.Fatalf("at %v: %s, zerolog writes %s", times[i], got.String(), want.String())
		}
	}
}

// TestLoggerStampsLines: every line of the daemon's JSON logger carries
// "time", the current second in RFC 3339.
func TestLoggerStampsLines(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Truncate(time.Second)
	log.Info().Int("code", 0).Msg("m")
	var line struct{ Time string }
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	at, err := time.Parse(time.RFC3339, line.Time)
	if err != nil || at.Before(before) || at.After(time.Now()) {
		t.Fatalf("time %q (%v), want now in RFC 3339", line.Time, err)
	}
}
