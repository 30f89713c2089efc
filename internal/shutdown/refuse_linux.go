package shutdown

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// refuse attaches a classic BPF program of one instruction, "return 0",
// to the listening socket: every packet reaching it is dropped, so SYNs
// get no answer and no new connection completes, while the connections
// already queued stay acceptable.
func refuse(ln net.Listener) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return errors.ErrUnsupported
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return err
	}
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	prog := unix.SockFprog{Len: uint16(len(drop)), Filter: &drop[0]}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog)
	}); err != nil {
		return err
	}
	return serr
}

// queued is the length of the listener's accept queue (0 when unknown):
// for a listening socket Linux reports it as tcpi_unacked.
func queued(ln net.Listener) int {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		return 0
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			n = int(info.Unacked)
		}
	})
	return n
}
