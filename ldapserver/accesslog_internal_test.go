package ldapserver

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestAppendMillisAsZerolog: the access line's duration, written from
// integers, is the text zerolog's Dur wrote for it (milliseconds as the
// shortest float64), for durations from nothing to days.
func TestAppendMillisAsZerolog(t *testing.T) {
	ds := []time.Duration{0, 1, 9, 10, 999, 1000, 1001, 12345, 999999, time.Millisecond,
		time.Millisecond + 1, 1234567891, time.Second, time.Minute + 7, 36 * time.Hour, maxExactMillis - 1}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		ds = append(ds, time.Duration(rng.Int64N(int64(maxExactMillis)>>rng.IntN(50))))
	}
	var want bytes.Buffer
	log := zerolog.New(&want)
	for _, d := range ds {
		want.Reset()
		log.Log().Dur("d", d).Send()
		exp := bytes.TrimSuffix(bytes.TrimPrefix(want.Bytes(), []byte(`{"d":`)), []byte("}\n"))
		if got := appendMillis(nil, d); !bytes.Equal(got, exp) {
			t.Fatalf("appendMillis(%d) = %s, zerolog's Dur writes %s", int64(d), got, exp)
		}
	}
}
