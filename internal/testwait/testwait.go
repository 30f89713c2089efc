// Package testwait lets tests wait for what another goroutine or process
// will make true.
package testwait

import (
	"testing"
	"time"
)

// Until polls cond until it holds, failing t after 30 s; what names the
// awaited state in the failure.
func Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
