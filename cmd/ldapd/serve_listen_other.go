//go:build !linux

package main

import "net"

// listenTCP opens a TCP listener; Go sets keepalive on each accepted
// connection (on Linux, serve_listen_linux.go sets it once on the
// listener).
func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
