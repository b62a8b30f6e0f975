package daemon

import (
	"time"

	"github.com/ldapd/ldapd/ldapserver"
	"github.com/ldapd/ldapd/ldapserver/wire"
)

// Limits are the protocol front end's limits (ldapserver.Server's and
// wire.Limits); zero keeps their documented defaults.
type Limits struct {
	MaxMessageBytes     int
	MaxConnections      int
	MaxConnectionsPerIP int
	IdleTimeout         time.Duration
	ReadTimeout         time.Duration
	WriteTimeout        time.Duration
	MaxTimeLimit        time.Duration // cap on a search's time limit
	MaxFilterDepth      int
	MaxFilterNodes      int
	MaxAttributes       int
	MaxValues           int
}

// apply sets the limits on a server.
func (l Limits) apply(s *ldapserver.Server) {
	s.MaxMessageBytes = l.MaxMessageBytes
	s.MaxConnections = l.MaxConnections
	s.MaxConnectionsPerIP = l.MaxConnectionsPerIP
	s.IdleTimeout = l.IdleTimeout
	s.ReadTimeout = l.ReadTimeout
	s.WriteTimeout = l.WriteTimeout
	s.MaxTimeLimit = l.MaxTimeLimit
	s.Limits = wire.Limits{MaxFilterDepth: l.MaxFilterDepth, MaxFilterNodes: l.MaxFilterNodes,
		MaxAttributes: l.MaxAttributes, MaxValues: l.MaxValues}
}
