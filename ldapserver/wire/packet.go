package wire

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
)

// readChunk is the most memory AppendPacket commits ahead of the data that
// has actually arrived.
const readChunk = 64 << 10

// ReadPacket reads exactly one LDAPMessage TLV from r and returns it, header
// included, in a newly allocated slice of its exact size. It is
// AppendPacket(nil, r, maxSize).
func ReadPacket(r *bufio.Reader, maxSize int) ([]byte, error) {
	return AppendPacket(nil, r, maxSize)
}

// AppendPacket reads exactly one LDAPMessage TLV from r and appends it,
// header included, to dst. Passing the previous packet's buffer as dst[:0]
// reuses its memory; Decode does not retain the packet, so this is safe
// once the previous message has been decoded.
//
// maxSize bounds the size of the whole TLV; zero or negative means
// DefaultMaxPacketSize. A larger declared length returns an error wrapping
// ErrMessageTooLarge after reading only the header, so nothing is allocated
// for it. The stream is then positioned inside the oversized message, so the
// caller cannot read further messages and should close the connection
// (after a Notice of Disconnection, if it likes).
//
// The identifier must be that of a SEQUENCE (0x30) and the length definite,
// in at most four octets; otherwise the error wraps ErrMalformed. The
// contents are not examined: that is Decode's job.
//
// Memory is committed as the contents arrive, at most 64 KiB ahead of them,
// so a peer that declares a large message and then stalls holds little
// memory. io.EOF is returned unwrapped when r ends cleanly before the first
// octet; an end within a message is io.ErrUnexpectedEOF. Other read errors
// are wrapped. On any error the returned slice is dst, unchanged in length.
func AppendPacket(dst []byte, r *bufio.Reader, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		maxSize = DefaultMaxPacketSize
	}
	start := len(dst)
	tag, err := r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return dst, io.EOF
		}
		return dst, fmt.Errorf("reading LDAP message: %w", err)
	}
	if tag != tagSequence {
		return dst, fmt.Errorf("%w: LDAPMessage identifier 0x%02x, want 0x30", ErrMalformed, tag)
	}
	var hdr [6]byte
	hdr[0] = tag
	h := 1
	first, err := r.ReadByte()
	if err != nil {
		return dst, readErr(err)
	}
	hdr[h] = first
	h++
	length := uint64(first)
	if first >= 0x80 {
		k := int(first & 0x7f)
		switch {
		case k == 0:
			return dst, fmt.Errorf("%w: LDAPMessage with indefinite length", ErrMalformed)
		case k > 4:
			return dst, fmt.Errorf("%w: LDAPMessage with %d length octets (at most 4 allowed)", ErrMalformed, k)
		}
		length = 0
		for range k {
			b, err := r.ReadByte()
			if err != nil {
				return dst, readErr(err)
			}
			hdr[h] = b
			h++
			length = length<<8 | uint64(b)
		}
	}
	if total := uint64(h) + length; total > uint64(maxSize) {
		return dst, fmt.Errorf("%w: %d octets declared, limit %d", ErrMessageTooLarge, total, maxSize)
	}

	need := int(length)
	if reserve := h + min(need, readChunk); cap(dst)-len(dst) < reserve {
		// Allocate exactly, so that a message of up to readChunk octets
		// read into a nil dst costs one allocation of its own size.
		dst = append(make([]byte, 0, len(dst)+reserve), dst...)
	}
	dst = append(dst, hdr[:h]...)
	for need > 0 {
		// Grow geometrically with what has arrived, never past the
		// declared length.
		step := min(need, max(readChunk, len(dst)-start))
		dst = slices.Grow(dst, step)
		n, err := io.ReadFull(r, dst[len(dst):len(dst)+step])
		if err != nil {
			return dst[:start], readErr(err)
		}
		dst = dst[:len(dst)+n]
		need -= n
	}
	return dst, nil
}

// readErr wraps an error met inside a message; a clean end of stream there
// is unexpected.
func readErr(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading LDAP message: %w", err)
}

// Complete reports whether b begins with a whole LDAPMessage: its
// identifier, a definite length of at most 4 octets and that many octets
// of content. Anything else, a malformed header included, is false (the
// reader then reads the message, and reports the problem, as usual).
func Complete(b []byte) bool {
	if len(b) < 2 || b[0] != tagSequence {
		return false
	}
	length, h := uint64(b[1]), 2
	if b[1] >= 0x80 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return false
		}
		length = 0
		for _, c := range b[2 : 2+k] {
			length = length<<8 | uint64(c)
		}
		h += k
	}
	return uint64(len(b)-h) >= length
}
