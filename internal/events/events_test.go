package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/files"
)

func ev(owner int64, id string) files.Event {
	return files.Event{Type: files.EventUpdated, FileID: id, OwnerID: owner}
}

func TestBrokerDeliversToOwnerOnly(t *testing.T) {
	b := NewBroker()
	ada, bob := b.Subscribe(1), b.Subscribe(2)
	defer ada.Close()
	defer bob.Close()
	b.Publish(ev(1, "a"))
	if got := <-ada.C; got.FileID != "a" || got.Seq != 1 {
		t.Fatalf("ada got %+v", got)
	}
	select {
	case got := <-bob.C:
		t.Fatalf("bob got ada's event %+v", got)
	default:
	}
	if n := b.Count(); n != 2 {
		t.Fatalf("Count = %d", n)
	}
	ada.Close()
	ada.Close() // twice is fine
	if _, ok := <-ada.C; ok || ada.Err() != nil {
		t.Fatalf("closed subscription: open=%v err=%v", ok, ada.Err())
	}
	if n := b.Count(); n != 1 {
		t.Fatalf("Count after Close = %d", n)
	}
}

// A reader that stops reading is ended with ErrResync; the publisher and a
// reader that keeps up are not held back.
func TestBrokerEndsLaggingSubscriber(t *testing.T) {
	b := NewBroker()
	slow, fast := b.Subscribe(1), b.Subscribe(1)
	defer fast.Close()
	for round := 0; round < 3; round++ {
		for i := 0; i < Buffer; i++ {
			b.Publish(ev(1, fmt.Sprint(round, i))) // returns at once, slow or not
		}
		for i := 0; i < Buffer; i++ {
			if got := <-fast.C; got.FileID != fmt.Sprint(round, i) {
				t.Fatalf("fast reader got %+v", got)
			}
		}
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != Buffer {
		t.Fatalf("slow reader kept %d buffered events, want %d", n, Buffer)
	}
	if err := slow.Err(); !errors.Is(err, ErrResync) {
		t.Fatalf("slow reader ended with %v, want ErrResync", err)
	}
	if st := b.Stats(); st.Lagged != 1 || st.Subscribers != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestBrokerClose(t *testing.T) {
	b := NewBroker()
	s := b.Subscribe(1)
	b.Close()
	if _, ok := <-s.C; ok || !errors.Is(s.Err(), ErrClosed) {
		t.Fatalf("after Close: open=%v err=%v", ok, s.Err())
	}
	late := b.Subscribe(1)
	if _, ok := <-late.C; ok || !errors.Is(late.Err(), ErrClosed) {
		t.Fatalf("subscribe after Close: open=%v err=%v", ok, late.Err())
	}
	b.Publish(ev(1, "x")) // reaches nobody, harmlessly
	if b.Count() != 0 {
		t.Fatal("subscriptions left after Close")
	}
}

// Payloads stay under PostgreSQL's 8000-byte limit, and every event is in
// exactly one of them, in order.
func TestEncodeSplitsLargeBatches(t *testing.T) {
	var batch []outItem
	for i := 1; i <= maxBatch; i++ {
		batch = append(batch, outItem{kind: kindEvents, seq: uint64(i),
			ev: files.Event{Type: files.EventCreated, FileID: "0b8f8c8e-8f2f-4e0e-9d5a-3c0f7b0e9a7f", OwnerID: 1 << 40}})
		if i == 100 {
			batch = append(batch, outItem{kind: kindState, seq: uint64(i), nonce: "n"})
		}
	}
	payloads := encode("0123456789abcdef", batch)
	if len(payloads) < 3 {
		t.Fatalf("%d payloads for %d events", len(payloads), maxBatch)
	}
	next := uint64(1)
	sawState := false
	for _, p := range payloads {
		if len(p.payload) >= 8000 {
			t.Fatalf("payload of %d bytes", len(p.payload))
		}
		var m wireMsg
		if err := json.Unmarshal([]byte(p.payload), &m); err != nil {
			t.Fatal(err)
		}
		if m.K == kindState {
			sawState = true
			if m.S != 100 || next != 101 {
				t.Fatalf("state message S=%d after event %d", m.S, next-1)
			}
			continue
		}
		for _, e := range m.E {
			if e.S != next {
				t.Fatalf("event %d where %d was expected", e.S, next)
			}
			next++
		}
		if m.S != next-1 {
			t.Fatalf("message S=%d, last event %d", m.S, next-1)
		}
	}
	if next != maxBatch+1 || !sawState {
		t.Fatalf("events up to %d, state seen %v", next-1, sawState)
	}
}

func TestChannelName(t *testing.T) {
	for schema, want := range map[string]string{
		"public":             "cutline_events.public",
		"t_0123456789abcdef": "cutline_events.t_0123456789abcdef",
	} {
		if got := channelName(schema); got != want {
			t.Errorf("channelName(%q) = %q, want %q", schema, got, want)
		}
	}
	for _, odd := range []string{"My Schema", `we"ird`, "", string(make([]byte, 80))} {
		got := channelName(odd)
		if len(got) > 63 || got == "cutline_events."+odd {
			t.Errorf("channelName(%q) = %q", odd, got)
		}
	}
}

// Subscriptions that received the same delivery share one read; another
// delivery reads again.
func TestLoadSharesOneRead(t *testing.T) {
	b := NewBroker()
	subs := make([]*Subscription, 50)
	for i := range subs {
		subs[i] = b.Subscribe(1)
	}
	b.Publish(ev(1, "f"))
	var reads atomic.Int32
	release := make(chan struct{})
	read := func(ctx context.Context) (*files.File, error) {
		reads.Add(1)
		<-release
		return &files.File{Annotated: files.Annotated{Summary: files.Summary{ID: "f"}}}, nil
	}
	// One caller gives up while the read is in flight; the others still
	// get the file.
	gone, cancel := context.WithCancel(context.Background())
	results := make(chan error, len(subs))
	call := func(ctx context.Context, d Delivery) {
		f, err := b.Load(ctx, d, read)
		if err == nil && f.ID != "f" {
			err = fmt.Errorf("got file %q", f.ID)
		}
		results <- err
	}
	ds := make([]Delivery, len(subs))
	for i, s := range subs {
		ds[i] = <-s.C
	}
	go call(context.Background(), ds[1])
	for reads.Load() == 0 {
		time.Sleep(time.Millisecond) // until the first caller's read is in flight
	}
	go call(gone, ds[0])
	for _, d := range ds[2:] {
		go call(context.Background(), d)
	}
	cancel()
	if err := <-results; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller that left got %v", err)
	}
	close(release)
	for range len(subs) - 1 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Fatalf("%d reads for one delivery", n)
	}
	b.Publish(ev(1, "f"))
	d := <-subs[1].C
	if _, err := b.Load(context.Background(), d, read); err != nil || reads.Load() != 2 {
		t.Fatalf("second delivery: %v, %d reads", err, reads.Load())
	}
}
