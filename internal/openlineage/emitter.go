package openlineage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cutline/cutline/internal/lineage"
)

// EmitterOptions configure an Emitter. Zero values take the defaults.
type EmitterOptions struct {
	// URL receives every event as a POST of its JSON (the OpenLineage
	// HTTP transport), e.g. http://marquez:5000/api/v1/lineage.
	URL string
	// APIKey, when set, is sent as Authorization: Bearer APIKey.
	APIKey string
	// Timeout is the deadline of each POST (default 10s).
	Timeout time.Duration
	// MaxAttempts bounds the deliveries tried per event (default 10);
	// then the event is given up (failed_at) and logged.
	MaxAttempts int
	// RetryMin is the wait after a first failed attempt, doubled after
	// each further one up to RetryMax (defaults 1s and 5m). It is also how
	// often the emitter looks for new deliveries.
	RetryMin, RetryMax time.Duration
	// Client sends the requests (default: a client of its own).
	Client *http.Client
	Logger *slog.Logger
	// Meter, when set, counts the attempts by outcome.
	Meter Meter
}

// Meter counts delivery attempts (metrics.Metrics is one).
type Meter interface {
	// OpenLineageDelivery is called once per attempt with its outcome:
	// "delivered", "retry" or "failed".
	OpenLineageDelivery(outcome string)
}

type noMeter struct{}

func (noMeter) OpenLineageDelivery(string) {}

// claimBatch is how many deliveries one claim takes.
const claimBatch = 10

// Emitter delivers the derivations queued in openlineage_outbox. Every
// replica may run one: each claim leases its rows, so two emitters never
// send the same event at once, and a lease that ends (its emitter died
// mid-delivery) hands the rows to whichever claims next. Delivery is at
// least once; an event sent twice has the same run id.
type Emitter struct {
	svc    *Service
	store  *lineage.Store
	opts   EmitterOptions
	log    *slog.Logger
	meter  Meter
	now    func() time.Time
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// NewEmitter returns an Emitter of svc's events over the outbox of store.
// Start starts it.
func NewEmitter(svc *Service, store *lineage.Store, opts EmitterOptions) *Emitter {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 10
	}
	if opts.RetryMin <= 0 {
		opts.RetryMin = time.Second
	}
	if opts.RetryMax < opts.RetryMin {
		opts.RetryMax = max(opts.RetryMin, 5*time.Minute)
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	e := &Emitter{svc: svc, store: store, opts: opts, log: opts.Logger, meter: opts.Meter, now: time.Now, done: make(chan struct{})}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.meter == nil {
		e.meter = noMeter{}
	}
	return e
}

// Start delivers in the background until Close.
func (e *Emitter) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	go e.run(ctx)
}

// Close stops delivering and waits for the delivery in flight: one cut
// short is given back to the queue, not counted as an attempt.
func (e *Emitter) Close() {
	e.once.Do(func() {
		if e.cancel == nil {
			close(e.done)
			return
		}
		e.cancel()
		<-e.done
	})
}

func (e *Emitter) run(ctx context.Context) {
	defer close(e.done)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.drain(ctx)
		t.Reset(e.opts.RetryMin)
	}
}

// lease is how long a claim holds its rows: long enough to try each of a
// batch to its deadline.
func (e *Emitter) lease() time.Duration { return time.Duration(claimBatch+1) * e.opts.Timeout }

// drain delivers what is due, batch after batch.
func (e *Emitter) drain(ctx context.Context) {
	for ctx.Err() == nil {
		items, err := e.store.Claim(ctx, e.now().UTC(), e.lease(), claimBatch)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("openlineage: claim deliveries", "err", err)
			}
			return
		}
		for _, it := range items {
			e.deliver(ctx, it)
		}
		if len(items) < claimBatch {
			return
		}
	}
}

// errGone: the outbox names a file that is no longer there (or has no
// parents): there is nothing to send, ever.
var errGone = errors.New("the file is gone or was not derived")

// deliver tries one claimed delivery and records the outcome.
func (e *Emitter) deliver(ctx context.Context, it lineage.OutboxItem) {
	ev, err := e.svc.Event(ctx, it.FileID)
	if err == nil && ev == nil {
		err = errGone
	}
	if err == nil {
		err = e.post(ctx, ev)
	}
	// The outcome is written even when ctx is ending: a short deadline
	// of its own.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	now := e.now().UTC()
	var werr error
	switch {
	case err == nil:
		e.meter.OpenLineageDelivery("delivered")
		werr = e.store.Delivered(wctx, it.ID, now)
	case ctx.Err() != nil:
		werr = e.store.Release(wctx, it.ID, now)
	case it.Attempts >= e.opts.MaxAttempts || errors.Is(err, errGone):
		e.meter.OpenLineageDelivery("failed")
		e.log.Error("openlineage: delivery given up", "file", it.FileID, "attempts", it.Attempts, "err", err)
		werr = e.store.Failed(wctx, it.ID, now, err.Error())
	default:
		e.meter.OpenLineageDelivery("retry")
		wait := e.backoff(it.Attempts)
		e.log.Warn("openlineage: delivery failed, will retry", "file", it.FileID, "attempts", it.Attempts, "retry_in", wait, "err", err)
		werr = e.store.Retry(wctx, it.ID, now.Add(wait), err.Error())
	}
	if werr != nil {
		// The lease ends and the delivery is tried again.
		e.log.Warn("openlineage: record delivery", "file", it.FileID, "err", werr)
	}
}

// backoff is the wait after the attempts-th failed attempt: RetryMin,
// doubled for each attempt before, at most RetryMax.
func (e *Emitter) backoff(attempts int) time.Duration {
	d := e.opts.RetryMin
	for i := 1; i < attempts && d < e.opts.RetryMax; i++ {
		d *= 2
	}
	return min(d, e.opts.RetryMax)
}

// post sends one event; any answer but 2xx is a failure.
func (e *Emitter) post(ctx context.Context, ev *RunEvent) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.opts.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openlineage request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.opts.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+e.opts.APIKey)
	}
	resp, err := e.opts.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post event: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("post event: the receiver answered %s", resp.Status)
	}
	return nil
}

// Counts is how many deliveries wait and how many were given up, across
// every replica (for /metrics).
func (e *Emitter) Counts(ctx context.Context) (pending, failed int64, err error) {
	return e.store.OutboxCounts(ctx)
}
