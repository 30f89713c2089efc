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

// Messages stay under PostgreSQL's 8000-byte limit once the database has
// completed them with their last number, and every event is in exactly
// one of them, in order.
func TestEncodeSplitsLargeBatches(t *testing.T) {
	var evs []files.Event
	for i := range 300 {
		evs = append(evs, files.Event{Type: files.EventCreated, FileID: fmt.Sprintf("0b8f8c8e-8f2f-4e0e-9d5a-%012d", i), OwnerID: 1 << 40})
	}
	chunks := encodeEvents("0123456789abcdef", evs)
	if len(chunks) < 3 {
		t.Fatalf("%d messages for %d events", len(chunks), len(evs))
	}
	next, total := 0, 0
	for _, c := range chunks {
		total += c.events
		// The largest number a count can reach.
		payload := c.prefix + "18446744073709551615}"
		if len(payload) >= 8000 {
			t.Fatalf("message of %d bytes", len(payload))
		}
		var m wireMsg
		if err := json.Unmarshal([]byte(payload), &m); err != nil {
			t.Fatal(err)
		}
		if m.K != kindEvents || m.I != "0123456789abcdef" || len(m.E) != c.events {
			t.Fatalf("message %+v for %d events", m, c.events)
		}
		for _, e := range m.E {
			if e.F != evs[next].FileID || e.S != 0 {
				t.Fatalf("event %+v where %s was expected", e, evs[next].FileID)
			}
			next++
		}
	}
	if total != len(evs) || next != len(evs) {
		t.Fatalf("%d events in the messages, %d read, want %d", total, next, len(evs))
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
