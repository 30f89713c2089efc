//go:build unix

package app

import "syscall"

// freeBytes is the space left to unprivileged writers on the file system
// that holds path.
func freeBytes(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
