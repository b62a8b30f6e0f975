package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadPacketStream(t *testing.T) {
	a := msg(1, tlv(0x60, integer(3), ostr(""), prim(0x80, "")))
	b := msg(2, []byte{0x42, 0x00})
	r := bufio.NewReader(bytes.NewReader(append(append([]byte{}, a...), b...)))
	for i, want := range [][]byte{a, b} {
		got, err := ReadPacket(r, 0)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("packet %d: got % x, want % x", i, got, want)
		}
		if len(got) != cap(got) {
			t.Errorf("packet %d: cap %d, want exactly %d", i, cap(got), len(got))
		}
	}
	if _, err := ReadPacket(r, 0); err != io.EOF {
		t.Fatalf("at end of stream: %v, want io.EOF", err)
	}
}

func TestReadPacketErrors(t *testing.T) {
	big := strings.Repeat("x", 200)
	bigMsg := msg(1, prim(0x4a, big)) // 3-octet header
	tests := []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{name: "huge length", in: []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, max: 1 << 20, want: ErrMessageTooLarge},
		{name: "huge length, default max", in: []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, want: ErrMessageTooLarge},
		{name: "maximal four-octet length", in: []byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, max: 1 << 30, want: ErrMessageTooLarge},
		{name: "one over max", in: bigMsg, max: len(bigMsg) - 1, want: ErrMessageTooLarge},
		{name: "indefinite length", in: []byte{0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00}, want: ErrMalformed},
		{name: "five length octets", in: []byte{0x30, 0x85, 0, 0, 0, 0, 1, 0}, want: ErrMalformed},
		{name: "wrong tag", in: []byte{0x31, 0x00}, want: ErrMalformed},
		{name: "HTTP request", in: []byte("GET / HTTP/1.1\r\n\r\n"), want: ErrMalformed},
		{name: "truncated after tag", in: []byte{0x30}, want: io.ErrUnexpectedEOF},
		{name: "truncated length octets", in: []byte{0x30, 0x82, 0x01}, want: io.ErrUnexpectedEOF},
		{name: "truncated body", in: bigMsg[:100], want: io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendPacket(dst, bufio.NewReader(bytes.NewReader(tc.in)), tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if string(got) != "keep" {
				t.Errorf("on error the result is %q, want dst unchanged", got)
			}
		})
	}
}

func TestReadPacketAtMax(t *testing.T) {
	m := msg(1, prim(0x4a, strings.Repeat("x", 300)))
	got, err := ReadPacket(bufio.NewReader(bytes.NewReader(m)), len(m))
	if err != nil || !bytes.Equal(got, m) {
		t.Fatalf("ReadPacket at exactly max: %v", err)
	}
}

// TestReadPacketTooLargeReadsOnlyHeader checks that an oversized message is
// refused after its header, before any of its body is read or allocated.
func TestReadPacketTooLargeReadsOnlyHeader(t *testing.T) {
	hdr := []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}
	src := io.MultiReader(bytes.NewReader(hdr), iotest.ErrReader(errors.New("body must not be read")))
	r := bufio.NewReaderSize(iotest.OneByteReader(src), 16)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadPacket(r, 1<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("error %v, want ErrMessageTooLarge", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("allocated %d bytes for a refused message", n)
	}
}

// TestReadPacketStalledPeer checks that memory is committed as data
// arrives: a peer that declares 3 MiB and sends 100 bytes costs about one
// read chunk, not 3 MiB.
func TestReadPacketStalledPeer(t *testing.T) {
	in := append([]byte{0x30, 0x83, 0x30, 0x00, 0x00}, make([]byte, 100)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadPacket(bufio.NewReader(bytes.NewReader(in)), 4<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 2*readChunk {
		t.Errorf("allocated %d bytes for 100 bytes received", n)
	}
}

func TestReadPacketLargeInPieces(t *testing.T) {
	m := msg(1, prim(0x4a, strings.Repeat("abcdefgh", 50000))) // ~400 KB: several chunks
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", bytes.NewReader(m)},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(m))},
		{"half reads", iotest.HalfReader(bytes.NewReader(m))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadPacket(bufio.NewReader(tc.r), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, m) {
				t.Fatalf("got %d bytes, want %d", len(got), len(m))
			}
		})
	}
}

func TestAppendPacketReusesBuffer(t *testing.T) {
	m := msg(1, searchOp(eq("uid", "jdoe"), "cn"))
	stream := bytes.Repeat(m, 200)
	r := bufio.NewReader(bytes.NewReader(stream))
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		buf, err = AppendPacket(buf[:0], r, 0)
		if err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendPacket into a large enough buffer allocated %v times", allocs)
	}
	if !bytes.Equal(buf, m) {
		t.Errorf("got % x", buf)
	}
}
