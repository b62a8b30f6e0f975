package wire

// Default values of the Limits fields and of ReadPacket's maximum.
const (
	DefaultMaxPacketSize  = 4 << 20 // 4 MiB, as OpenLDAP's sockbuf_max_incoming_auth
	DefaultMaxFilterDepth = 64
	DefaultMaxFilterNodes = 10000
	DefaultMaxAttributes  = 1000
	DefaultMaxValues      = 100000
	DefaultMaxControls    = 64
)

// Limits bounds the work and memory Decode spends on one message, beyond
// the bound the packet's own size already sets. A field that is zero (or
// negative) takes its default, so the zero Limits is ready to use.
//
// Exceeding a limit yields an error wrapping ErrLimitExceeded (inside a
// *DecodeError), so the server can tell it from a malformed message.
type Limits struct {
	// MaxFilterDepth is the deepest nesting of and, or and not filters
	// accepted; a lone equality filter has depth 1. Decoding checks the
	// depth before descending, so a hostile filter can never exhaust the
	// stack. Default DefaultMaxFilterDepth (64).
	MaxFilterDepth int

	// MaxFilterNodes bounds the size of one search filter, counted as the
	// number of filter components plus the number of substring "any"
	// elements. A component costs about 160 bytes decoded, against as few
	// as three octets on the wire, so this bounds the amplification.
	// Default DefaultMaxFilterNodes (10000).
	MaxFilterNodes int

	// MaxAttributes bounds the attribute selection of a search, the
	// attribute list of an add and the change list of a modify.
	// Default DefaultMaxAttributes (1000).
	MaxAttributes int

	// MaxValues bounds the total number of attribute values in one add or
	// modify request. Default DefaultMaxValues (100000).
	MaxValues int

	// MaxControls bounds the number of controls on one message.
	// Default DefaultMaxControls (64).
	MaxControls int
}

// withDefaults returns l with every unset field replaced by its default.
func (l Limits) withDefaults() Limits {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxFilterDepth: def(l.MaxFilterDepth, DefaultMaxFilterDepth),
		MaxFilterNodes: def(l.MaxFilterNodes, DefaultMaxFilterNodes),
		MaxAttributes:  def(l.MaxAttributes, DefaultMaxAttributes),
		MaxValues:      def(l.MaxValues, DefaultMaxValues),
		MaxControls:    def(l.MaxControls, DefaultMaxControls),
	}
}
