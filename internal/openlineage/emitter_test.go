package openlineage

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	e := NewEmitter(nil, nil, EmitterOptions{RetryMin: time.Second, RetryMax: 10 * time.Second})
	for _, c := range []struct {
		attempts int
		want     time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second},
	} {
		if got := e.backoff(c.attempts); got != c.want {
			t.Errorf("after %d attempts: %s, want %s", c.attempts, got, c.want)
		}
	}
	d := NewEmitter(nil, nil, EmitterOptions{})
	if d.opts.RetryMin != time.Second || d.opts.RetryMax != 5*time.Minute || d.opts.MaxAttempts != 10 || d.opts.Timeout != 10*time.Second {
		t.Errorf("defaults: %+v", d.opts)
	}
}
