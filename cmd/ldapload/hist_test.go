package main

import (
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	for _, us := range []uint64{0, 1, 63, 64, 65, 100, 1000, 12345, 1 << 30} {
		i := bucketOf(us)
		lo := lowerBound(i)
		if lo > float64(us) || float64(us) > lo*1.04+1 {
			t.Errorf("%d us: bucket %d starts at %v", us, i, lo)
		}
	}
	var h histogram
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	if p50 := h.quantile(0.5); p50 != 51 {
		t.Errorf("p50 = %v, want 51", p50)
	}
	if p99 := h.quantile(0.99); p99 < 96 || p99 > 100 {
		t.Errorf("p99 = %v", p99)
	}
}

func TestParseResponse(t *testing.T) {
	// A BindResponse, message 7, invalidCredentials.
	p := []byte{0x30, 0x0c, 0x02, 0x01, 0x07, 0x61, 0x07, 0x0a, 0x01, 0x31, 0x04, 0x00, 0x04, 0x00}
	r, ok := parseResponse(p)
	if !ok || r.id != 7 || r.tag != appBindResponse || r.code != 49 {
		t.Fatalf("got %+v %v", r, ok)
	}
}
