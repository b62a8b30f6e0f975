package wire

import (
	"bufio"
	"bytes"
	"testing"
)

// TestComplete: Complete says true exactly when AppendPacket would read a
// whole message from the bytes alone.
func TestComplete(t *testing.T) {
	whoami := []byte{0x30, 0x1e, 0x02, 0x01, 0x01, 0x77, 0x19, 0x80, 0x17, '1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.', '4', '2', '0', '3', '.', '1', '.', '1', '1', '.', '3'}
	long := append([]byte{0x30, 0x82, 0x01, 0x00}, make([]byte, 256)...)
	for _, tc := range []struct {
		name string
		b    []byte
		want bool
	}{
		{"empty", nil, false},
		{"tag only", []byte{0x30}, false},
		{"whole", whoami, true},
		{"whole and more", append(append([]byte{}, whoami...), 0x30, 0x05), true},
		{"one octet short", whoami[:len(whoami)-1], false},
		{"long form whole", long, true},
		{"long form short", long[:200], false},
		{"long form header cut", long[:3], false},
		{"wrong tag", []byte{0x31, 0x00}, false},
		{"indefinite length", []byte{0x30, 0x80, 0x00, 0x00}, false},
		{"five length octets", []byte{0x30, 0x85, 0, 0, 0, 0, 1, 0}, false},
		{"empty sequence", []byte{0x30, 0x00}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Complete(tc.b); got != tc.want {
				t.Fatalf("Complete(% x) = %v, want %v", tc.b, got, tc.want)
			}
			if !tc.want {
				return
			}
			// A complete message reads without touching the reader's source.
			r := bufio.NewReader(&onlyOnce{b: tc.b})
			if _, err := r.Peek(1); err != nil {
				t.Fatal(err)
			}
			if _, err := AppendPacket(nil, r, 0); err != nil {
				t.Fatalf("AppendPacket of a complete message: %v", err)
			}
		})
	}
}

// onlyOnce hands out its bytes in one Read and then fails the test's
// expectation by returning an error, as a socket with nothing more would
// block.
type onlyOnce struct {
	b    []byte
	done bool
}

func (o *onlyOnce) Read(p []byte) (int, error) {
	if o.done {
		return 0, bytes.ErrTooLarge // anything but EOF: a second read is a failure
	}
	o.done = true
	return copy(p, o.b), nil
}
