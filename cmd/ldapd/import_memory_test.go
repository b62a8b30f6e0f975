package main

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ldapd/ldapd/internal/cli"
)

// peopleLDIF is a file of n people, as scripts/bench/genldif writes them.
func peopleLDIF(n int) string {
	var b strings.Builder
	b.WriteString("dn: ou=people,dc=idm,dc=example,dc=com\nobjectClass: organizationalUnit\nou: people\n\n")
	for i := range n {
		fmt.Fprintf(&b, "dn: uid=user%d,ou=people,dc=idm,dc=example,dc=com\nobjectClass: top\nobjectClass: person\n"+
			"objectClass: organizationalPerson\nobjectClass: inetOrgPerson\nuid: user%d\ncn: User %d\nsn: %d\n"+
			"mail: user%d@example.com\nuserPassword: {SSHA}0MGjGSQh7wwTVlirvSO7E6imC/oQbIiaULx5jg==\n\n", i, i, i, i, i)
	}
	return b.String()
}

// peakHeap runs ldapd with args and returns the largest Go heap (bytes in
// heap objects, live or not yet swept) seen while it ran, sampled every
// millisecond.
func peakHeap(t *testing.T, args ...string) uint64 {
	t.Helper()
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	_, errOut, code := runCmd(t, args...)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("ldapd %s: %d, %s", strings.Join(args, " "), code, errOut)
	}
	return peak
}

// TestImportMaxMemory checks that import --max-memory bounds the Go heap:
// a file whose import takes more than 64 MiB of heap with --max-memory
// 4GiB (40,000 people: 112-116 MiB; 20,000 were too few once a load's
// Adds were batched, 53-70) stays under 64 MiB with --max-memory 64MiB
// (45-49 MiB).
func TestImportMaxMemory(t *testing.T) {
	const bound = 64 << 20
	file := writeFile(t, "people.ldif", peopleLDIF(40000))
	unbounded := peakHeap(t, "import", "-q", "--max-memory", "4GiB",
		"--data", t.TempDir(), "--domain", "idm.example.com", file)
	if unbounded <= bound {
		t.Fatalf("--max-memory 4GiB took %d MiB of heap: too little to show the bound", unbounded>>20)
	}
	bounded := peakHeap(t, "import", "-q", "--max-memory", "64MiB",
		"--data", t.TempDir(), "--domain", "idm.example.com", file)
	t.Logf("peak heap: %d MiB with --max-memory 4GiB, %d MiB with 64MiB", unbounded>>20, bounded>>20)
	if bounded > bound {
		t.Errorf("peak heap %d MiB with --max-memory 64MiB", bounded>>20)
	}
}

// TestImportMaxMemoryUsage checks that --max-memory refuses sizes it
// cannot keep.
func TestImportMaxMemoryUsage(t *testing.T) {
	file := writeFile(t, "people.ldif", peopleLDIF(1))
	for _, size := range []string{"1MiB", "lots", "1.5GiB", "-1", "12XB"} {
		_, errOut, code := runCmd(t, "import", "--max-memory", size, "--data", t.TempDir(), "--domain", "idm.example.com", file)
		if code != 2 || !strings.Contains(errOut, "--max-memory") {
			t.Errorf("--max-memory %s: exit %d, %s", size, code, errOut)
		}
	}
	for size, want := range map[string]int64{"64MiB": 64 << 20, "2G": 2 << 30, "1048576": 1 << 20, "512KiB": 512 << 10} {
		if got, err := cli.ParseByteSize(size); err != nil || got != want {
			t.Errorf("cli.ParseByteSize(%q) = %d, %v; want %d", size, got, err, want)
		}
	}
}
