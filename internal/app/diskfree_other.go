//go:build !unix

package app

import "errors"

// freeBytes is not known here: /readyz does not check disks.
func freeBytes(string) (uint64, error) { return 0, errors.New("free space unknown on this system") }
