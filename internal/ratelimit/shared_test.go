package ratelimit

import (
	"context"
	"net"
	"testing"
)

type observed struct{ calls []bool }

func (o *observed) SharedLimits(shared bool) { o.calls = append(o.calls, shared) }

// A Redis that does not answer makes every limit fall back to its bucket
// in this process, reported once however many requests come.
func TestSharedFallsBack(t *testing.T) {
	// A port nothing listens on: dialling is refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	obs := &observed{}
	s, err := NewShared("redis://"+addr+"/0", SharedOptions{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.Limit("ip", 0.001, 3)
	var got []bool
	for range 4 {
		ok, _ := l.Take(context.Background(), "192.0.2.1")
		got = append(got, ok)
	}
	if got[0] != true || got[1] != true || got[2] != true || got[3] != false {
		t.Fatalf("allowed %v, want the in-process burst of 3", got)
	}
	if len(obs.calls) != 2 || obs.calls[0] != true || obs.calls[1] != false {
		t.Fatalf("observer told %v, want shared then one fall-back", obs.calls)
	}
}

func TestSharedLimitOffOrWithoutRedis(t *testing.T) {
	var s *Shared
	if _, ok := s.Limit("ip", 1, 1).(*Limiter); !ok {
		t.Error("without Redis a limit is not the in-process one")
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	s2, err := NewShared("redis://127.0.0.1:1/0", SharedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if l, ok := s2.Limit("ip", 0, 1).(*Limiter); !ok || l.Enabled() {
		t.Error("a rate of 0 is not a limit that is off")
	}
	if _, err := NewShared("http://x", SharedOptions{}); err == nil {
		t.Error("an http:// URL accepted")
	}
}
