//go:build !linux

package shutdown

import (
	"errors"
	"net"
)

func refuse(net.Listener) error { return errors.ErrUnsupported }

func queued(net.Listener) int { return 0 }
