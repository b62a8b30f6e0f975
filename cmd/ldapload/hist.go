package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in microseconds in log-linear buckets: exact
// below 64 us, then 32 buckets per power of two (about 3% wide).
type histogram struct {
	counts [64 * 32]int64
	n      int64
}

const subBits = 5

func bucketOf(us uint64) int {
	if us < 64 {
		return int(us)
	}
	e := bits.Len64(us) - 1 // us in [2^e, 2^(e+1))
	sub := (us >> (uint(e) - subBits)) & (1<<subBits - 1)
	return 64 + (e-6)*(1<<subBits) + int(sub)
}

// lowerBound is the smallest latency in bucket i, in microseconds.
func lowerBound(i int) float64 {
	if i < 64 {
		return float64(i)
	}
	i -= 64
	e := i>>subBits + 6
	sub := i & (1<<subBits - 1)
	return float64(uint64(1)<<uint(e) + uint64(sub)<<(uint(e)-subBits))
}

func (h *histogram) add(d time.Duration) {
	us := uint64(d.Microseconds())
	i := bucketOf(us)
	if i >= len(h.counts) {
		i = len(h.counts) - 1
	}
	h.counts[i]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile returns the lower bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	target := int64(q * float64(h.n))
	if target >= h.n {
		target = h.n - 1
	}
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen > target {
			return lowerBound(i)
		}
	}
	return 0
}
