package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

// Idle clients are forgotten once their bucket would be full again, so
// the map stays small; the burst is enforced meanwhile.
func TestLimiterBurstAndEviction(t *testing.T) {
	l := New(2.0/60, 2) // the legacy shim's shape: 2 a minute, burst 2
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 1000; i++ {
		l.Allow("10.0.0."+strconv.Itoa(i), now)
	}
	ok1, _ := l.Allow("a", now)
	ok2, _ := l.Allow("a", now)
	ok3, wait := l.Allow("a", now)
	if !ok1 || !ok2 || ok3 || wait <= 0 {
		t.Fatal("burst of 2 not enforced")
	}
	l.Allow("b", now.Add(2*time.Minute))
	if n := l.Len(); n != 1 {
		t.Errorf("%d clients remembered after two idle minutes, want 1", n)
	}
}

func TestDisabledLimiterAllowsAll(t *testing.T) {
	l := New(0, 1)
	for i := 0; i < 100; i++ {
		if ok, _ := l.Allow("x", time.Now()); !ok {
			t.Fatal("a disabled limiter refused")
		}
	}
}
