package events

// How replicas share events, and how a listener knows what it missed.
//
// Every process has a random instance id and numbers the events it
// publishes 1, 2, 3, ... One sender goroutine NOTIFYs them in that order
// (several per payload when they queue up), so every listener sees each
// instance's numbers in order and a hole means an event went missing: it
// could not be sent (queue full, NOTIFY failed), or it was sent while that
// listener was disconnected. Payloads carry ids only; subscribers load what
// they show with their own permissions.
//
// Every message also carries S, the sender's last number at the time it was
// queued, so any message, not only an event, lets a listener check that it
// has everything before it. The kinds:
//
//	e  events
//	h  "my last number is S": a heartbeat, or the answer to a q
//	q  "everyone, report": sent after each (re)connection, with a nonce
//	b  bye, on a clean shutdown: forget me
//
// After a reconnect the listener sends q and waits for two things: its own
// q coming back, which proves that its LISTEN is active, and a message from
// every replica it knew. If each of those matches the last number seen,
// nothing was missed and the subscriptions simply carry on. A hole, a
// replica that stays silent past SyncTimeout, or a replica never heard of
// that has already published ends every subscription with ErrResync, since
// the lost events could have concerned anyone. So does a replica that falls
// silent without a bye for three heartbeats: a process killed between a
// commit and its NOTIFY leaves no hole anyone could see, so its silence is
// the only sign that an event may be lost. A process's own events reach its
// own subscribers directly, so they never depend on the listener.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/files"
)

// PostgresOptions tune the relay; zero values select the defaults.
type PostgresOptions struct {
	Logger *slog.Logger
	// Heartbeat is how often this process announces itself (default 10s).
	// It doubles as the listener's health check: hearing nothing, not even
	// its own heartbeat, for two periods means the connection is dead even
	// if TCP has not noticed, and the listener reconnects.
	Heartbeat time.Duration
	// SyncTimeout bounds how long, after a reconnect, the relay waits for a
	// known replica to report before assuming its events were lost
	// (default 10s; checked on heartbeats).
	SyncTimeout time.Duration
	// QueueSize bounds the events waiting to be sent (default 4096). A full
	// queue never blocks a publisher: the event is dropped, and the other
	// replicas see the hole in this process's numbers.
	QueueSize int
	// Channel overrides the NOTIFY channel. The default is derived from
	// the current schema, so deployments (and tests) sharing a database in
	// different schemas do not hear each other.
	Channel string

	// beforeListen runs before each listener connection; tests use it to
	// hold a reconnect back.
	beforeListen func()
}

const (
	defaultHeartbeat   = 10 * time.Second
	defaultSyncTimeout = 10 * time.Second
	defaultQueueSize   = 4096
	// sendTimeout bounds one NOTIFY or one LISTEN.
	sendTimeout = 5 * time.Second
	// startTimeout bounds NewPostgres waiting for its listener to work.
	startTimeout = 30 * time.Second
	// maxPayload keeps NOTIFY payloads below PostgreSQL's 8000-byte limit.
	maxPayload = 7000
	// maxBatch bounds the items the sender takes from its queue at once.
	maxBatch = 256
	// maxSilentPeers bounds the replicas remembered after they went quiet.
	maxSilentPeers = 1000
)

// Message kinds on the wire.
const (
	kindEvents = "e"
	kindState  = "h"
	kindQuery  = "q"
	kindBye    = "b"
)

type wireMsg struct {
	K string      `json:"k"`
	I string      `json:"i"`
	S uint64      `json:"s"`
	N string      `json:"n,omitempty"`
	E []wireEvent `json:"e,omitempty"`
}

type wireEvent struct {
	S uint64 `json:"s"`
	T string `json:"t"`
	O int64  `json:"o"`
	F string `json:"f"`
}

// outItem is one entry of the send queue.
type outItem struct {
	kind  string
	seq   uint64 // the event's number, or the last number when queued
	nonce string
	ev    files.Event
}

type sigKind int

const (
	sigConnected sigKind = iota // a listener connection is up and LISTEN sent
	sigLost                     // the connection that was up is gone
	sigFailed                   // an attempt to connect failed
	sigMsg                      // a notification
)

type signal struct {
	kind    sigKind
	payload string
	err     error
}

type peer struct {
	last   uint64
	heard  time.Time
	active bool // heard within three heartbeats; reconnects wait for it
}

type syncRound struct {
	nonce     string
	start     time.Time
	reconnect bool
	echo      bool // our own q came back: LISTEN is active
	waiting   map[string]bool
	resynced  bool
}

type pgRelay struct {
	b                      *Broker
	db                     *bun.DB
	log                    *slog.Logger
	channel, instance      string
	heartbeat, syncTimeout time.Duration
	beforeListen           func()

	// Sending. qmu orders numbering and queueing, so queue order is number
	// order.
	qmu      sync.Mutex
	seq      uint64
	queue    chan outItem
	qclosed  bool
	sendDone chan struct{}

	// Listening.
	inbox     chan signal
	stop      chan struct{}
	closeOnce sync.Once
	lnMu      sync.Mutex
	ln        *pgdriver.Listener
	lnStopped bool
	wg        sync.WaitGroup
	ready     chan struct{}
	readyOnce sync.Once

	// State of the run goroutine, touched by it only.
	peers         map[string]*peer
	hadGap        bool
	connected     bool
	everConnected bool
	lastRecv      time.Time
	round         *syncRound
	echoRetry     *time.Timer
	echoDelay     time.Duration

	// Counters for Stats.
	listening    atomic.Bool
	reconnects   atomic.Int64
	recovered    atomic.Int64
	sent         atomic.Int64
	sendFailures atomic.Int64
	activePeers  atomic.Int64
}

// Open returns the broker that suits db: one that relays events through the
// database when it can carry them between processes (several replicas may
// share it), otherwise one for this process alone (an embedded database
// has one process).
func Open(ctx context.Context, db *database.DB, opts PostgresOptions) (*Broker, error) {
	if db.CanNotify() {
		return NewPostgres(ctx, db, opts)
	}
	return NewBroker(), nil
}

// NewPostgres returns a broker that also relays events through db's
// LISTEN/NOTIFY, so every process sharing the database delivers every
// event. It returns once its listener is known to receive. Close it to stop
// the relay and tell the other replicas this one is gone.
func NewPostgres(ctx context.Context, handle *database.DB, opts PostgresOptions) (*Broker, error) {
	if !handle.CanNotify() {
		return nil, errors.New("events: NewPostgres needs a PostgreSQL database")
	}
	db := handle.DB
	channel := opts.Channel
	if channel == "" {
		var schema string
		if err := db.NewRaw("SELECT current_schema()").Scan(ctx, &schema); err != nil {
			return nil, fmt.Errorf("events: read the current schema: %w", err)
		}
		channel = channelName(schema)
	}
	r := &pgRelay{
		db: db, log: opts.Logger, channel: channel, instance: newID(),
		heartbeat: opts.Heartbeat, syncTimeout: opts.SyncTimeout, beforeListen: opts.beforeListen,
		sendDone: make(chan struct{}), inbox: make(chan signal, 64), stop: make(chan struct{}),
		ready: make(chan struct{}), peers: map[string]*peer{},
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.heartbeat <= 0 {
		r.heartbeat = defaultHeartbeat
	}
	if r.syncTimeout <= 0 {
		r.syncTimeout = defaultSyncTimeout
	}
	size := opts.QueueSize
	if size <= 0 {
		size = defaultQueueSize
	}
	r.queue = make(chan outItem, size)
	b := NewBroker()
	b.relay, r.b = r, b

	go r.send()
	r.wg.Add(2)
	go r.run()
	go r.receive()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-r.ready:
		return b, nil
	case <-ctx.Done():
		r.close()
		return nil, ctx.Err()
	case <-timer.C:
		r.close()
		return nil, errors.New("events: the PostgreSQL listener did not start receiving")
	}
}

// channelName derives the NOTIFY channel from the schema the tables live
// in. Unusual schema names are hashed: pgdriver quotes the LISTEN channel
// the Go way, which matches SQL quoting for plain names only, and channel
// names are limited to 63 bytes.
func channelName(schema string) string {
	const prefix = "cutline_events."
	ok := schema != "" && len(prefix)+len(schema) <= 63
	for _, c := range schema {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			ok = false
		}
	}
	if ok {
		return prefix + schema
	}
	sum := sha256.Sum256([]byte(schema))
	return prefix + hex.EncodeToString(sum[:8])
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// publish numbers ev and queues it for the sender without waiting.
func (r *pgRelay) publish(ev files.Event) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if r.qclosed {
		return
	}
	r.seq++
	select {
	case r.queue <- outItem{kind: kindEvents, seq: r.seq, ev: ev}:
	default:
		// The number is spent anyway, so the others see the hole.
		if r.sendFailures.Add(1)%100 == 1 {
			r.log.Warn("events: relay queue full, dropping events; other replicas will resync", "dropped", r.sendFailures.Load())
		}
	}
}

// control queues a message of kind carrying the current last number.
func (r *pgRelay) control(kind, nonce string) {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	if r.qclosed {
		return
	}
	select {
	case r.queue <- outItem{kind: kind, seq: r.seq, nonce: nonce}:
	default:
		// A lost heartbeat or answer only makes a peer wait or resync.
	}
}

// send NOTIFYs queued items in order, batching what has piled up.
func (r *pgRelay) send() {
	defer close(r.sendDone)
	batch := make([]outItem, 0, maxBatch)
	for it := range r.queue {
		batch = append(batch[:0], it)
	more:
		for len(batch) < maxBatch {
			select {
			case it, ok := <-r.queue:
				if !ok {
					break more
				}
				batch = append(batch, it)
			default:
				break more
			}
		}
		payloads := encode(r.instance, batch)
		n := 0
		for _, p := range payloads {
			n += p.events
		}
		if err := r.notify(payloads); err == nil {
			r.sent.Add(int64(n))
		} else {
			r.sendFailures.Add(int64(n))
			r.log.Warn("events: NOTIFY failed; other replicas will resync", "err", err, "events", n)
			if isDBClosed(err) {
				// The pool is gone (the app is closing, or a test
				// ended): stop rather than retry forever.
				go r.close()
			}
		}
	}
}

// notify sends payloads in one statement, so one round trip and one
// transaction, which keeps their order. It goes through database/sql
// rather than bun (pgdriver.Notify) so that relay traffic stays out of the
// query hooks that count, trace and time the application's own queries.
func (r *pgRelay) notify(payloads []payload) error {
	var q strings.Builder
	args := make([]any, 0, len(payloads)+1)
	args = append(args, r.channel)
	q.WriteString("SELECT ")
	for i, p := range payloads {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "pg_notify($1, $%d)", i+2)
		args = append(args, p.payload)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
	defer cancel()
	_, err := r.db.DB.ExecContext(ctx, q.String(), args...)
	return err
}

// isDBClosed reports database/sql's error for a closed pool, which has no
// exported sentinel.
func isDBClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "sql: database is closed")
}

type payload struct {
	payload string
	events  int
}

// encode turns a batch into NOTIFY payloads: consecutive events share one
// message as long as it stays under maxPayload; control items go alone.
func encode(instance string, batch []outItem) []payload {
	var out []payload
	var cur *wireMsg
	size := 0
	flush := func() {
		if cur == nil {
			return
		}
		b, _ := json.Marshal(cur)
		out = append(out, payload{payload: string(b), events: len(cur.E)})
		cur, size = nil, 0
	}
	for _, it := range batch {
		if it.kind != kindEvents {
			flush()
			b, _ := json.Marshal(wireMsg{K: it.kind, I: instance, S: it.seq, N: it.nonce})
			out = append(out, payload{payload: string(b)})
			continue
		}
		e := wireEvent{S: it.seq, T: string(it.ev.Type), O: it.ev.OwnerID, F: it.ev.FileID}
		n := len(e.T) + len(e.F) + 60 // field names, punctuation, two numbers
		if cur != nil && size+n > maxPayload {
			flush()
		}
		if cur == nil {
			cur, size = &wireMsg{K: kindEvents, I: instance}, 60+len(instance)
		}
		cur.E = append(cur.E, e)
		cur.S = it.seq
		size += n
	}
	flush()
	return out
}

// receive keeps one listener connection open, reconnecting with backoff,
// and feeds what it hears to run. A fresh pgdriver.Listener per connection
// lets run know the exact moment a new LISTEN was sent.
func (r *pgRelay) receive() {
	defer r.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		if r.beforeListen != nil {
			r.beforeListen()
		}
		select {
		case <-r.stop:
			return
		default:
		}
		ln := pgdriver.NewListener(r.db)
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		err := ln.Listen(ctx, r.channel)
		cancel()
		if err != nil {
			_ = ln.Close()
			if !r.signal(signal{kind: sigFailed, err: err}) || !r.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		if !r.setListener(ln) {
			_ = ln.Close()
			return
		}
		if !r.signal(signal{kind: sigConnected}) {
			return
		}
		up := time.Now()
		for {
			_, msg, err := ln.Receive(context.Background())
			if err != nil {
				r.clearListener(ln)
				if !r.signal(signal{kind: sigLost, err: err}) {
					return
				}
				break
			}
			if !r.signal(signal{kind: sigMsg, payload: msg}) {
				return
			}
		}
		// A connection that held for a while earns a quick reconnect; one
		// that keeps dropping backs off.
		if time.Since(up) > r.heartbeat {
			backoff = 50 * time.Millisecond
		} else {
			if !r.sleep(backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}
}

func (r *pgRelay) signal(s signal) bool {
	select {
	case r.inbox <- s:
		return true
	case <-r.stop:
		return false
	}
}

func (r *pgRelay) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stop:
		return false
	}
}

func (r *pgRelay) setListener(ln *pgdriver.Listener) bool {
	r.lnMu.Lock()
	defer r.lnMu.Unlock()
	if r.lnStopped {
		return false
	}
	r.ln = ln
	return true
}

func (r *pgRelay) clearListener(ln *pgdriver.Listener) {
	r.lnMu.Lock()
	if r.ln == ln {
		r.ln = nil
	}
	r.lnMu.Unlock()
	_ = ln.Close()
}

// dropListener closes the current listener connection; the blocked Receive
// fails and receive reconnects (or exits, when stopping).
func (r *pgRelay) dropListener(stopping bool) {
	r.lnMu.Lock()
	defer r.lnMu.Unlock()
	if stopping {
		r.lnStopped = true
	}
	if r.ln != nil {
		_ = r.ln.Close()
		r.ln = nil
	}
}

// run owns the relay's state: it checks every message against the numbers
// seen, delivers other replicas' events, answers queries, and watches the
// listener's health.
func (r *pgRelay) run() {
	defer r.wg.Done()
	tick := time.NewTicker(r.heartbeat)
	defer tick.Stop()
	r.echoRetry = time.NewTimer(time.Hour)
	r.echoRetry.Stop()
	defer r.echoRetry.Stop()
	for {
		select {
		case <-r.stop:
			return
		case s := <-r.inbox:
			r.handle(s, time.Now())
		case now := <-tick.C:
			r.tick(now)
		case <-r.echoRetry.C:
			// Our q may have committed a moment before the new LISTEN took
			// effect; ask again until it comes back.
			if rd := r.round; rd != nil && !rd.echo {
				r.control(kindQuery, rd.nonce)
				r.echoDelay = min(2*r.echoDelay, time.Second)
				r.echoRetry.Reset(r.echoDelay)
			}
		}
	}
}

func (r *pgRelay) handle(s signal, now time.Time) {
	switch s.kind {
	case sigConnected:
		r.connected, r.lastRecv = true, now
		rd := &syncRound{nonce: newID(), start: now, reconnect: r.everConnected, waiting: map[string]bool{}}
		if rd.reconnect {
			r.reconnects.Add(1)
		}
		r.everConnected = true
		for id, p := range r.peers {
			if p.active {
				rd.waiting[id] = true
			}
		}
		r.round = rd
		r.control(kindQuery, rd.nonce)
		// Usually the first q comes back; when it raced the LISTEN, the
		// next one a few milliseconds later does.
		r.echoDelay = 10 * time.Millisecond
		r.echoRetry.Reset(r.echoDelay)
	case sigLost:
		if r.connected {
			r.log.Warn("events: listener connection lost; reconnecting", "err", s.err)
		}
		r.connected, r.hadGap, r.round = false, true, nil
		r.listening.Store(false)
	case sigFailed:
		r.log.Warn("events: listener cannot connect; retrying", "err", s.err)
	case sigMsg:
		r.lastRecv = now
		r.message(s.payload, now)
	}
}

func (r *pgRelay) message(text string, now time.Time) {
	var m wireMsg
	if err := json.Unmarshal([]byte(text), &m); err != nil || m.I == "" {
		r.log.Debug("events: ignoring a foreign notification", "payload", text)
		return
	}
	if m.I == r.instance {
		// Our own events were delivered locally; our own q coming back
		// proves the LISTEN works.
		if rd := r.round; m.K == kindQuery && rd != nil && m.N == rd.nonce && !rd.echo {
			rd.echo = true
			r.echoRetry.Stop()
			r.listening.Store(true)
			r.readyOnce.Do(func() { close(r.ready) })
			r.finishRound()
		}
		return
	}
	resynced := false
	lost := func(err error) {
		if !resynced {
			resynced = true
			r.resync(err)
		}
	}
	p := r.peers[m.I]
	if p == nil {
		if m.K == kindBye {
			return
		}
		base := m.S
		if len(m.E) > 0 {
			base = m.E[0].S - 1
		}
		p = &peer{last: base}
		r.peers[m.I] = p
		r.prunePeers()
		if base > 0 && r.hadGap {
			lost(fmt.Errorf("replica %s published events while the listener was disconnected: %w", m.I, ErrResync))
		}
	}
	for _, e := range m.E {
		if e.S <= p.last {
			continue // seen already
		}
		if e.S > p.last+1 {
			lost(fmt.Errorf("events %d-%d of replica %s never arrived: %w", p.last+1, e.S-1, m.I, ErrResync))
		}
		p.last = e.S
		r.b.deliver(files.Event{Type: files.EventType(e.T), FileID: e.F, OwnerID: e.O})
	}
	if m.S > p.last {
		lost(fmt.Errorf("events %d-%d of replica %s never arrived: %w", p.last+1, m.S, m.I, ErrResync))
		p.last = m.S
	}
	p.heard, p.active = now, true
	switch m.K {
	case kindQuery:
		r.control(kindState, m.N)
	case kindBye:
		delete(r.peers, m.I)
	}
	r.countPeers()
	if rd := r.round; rd != nil {
		delete(rd.waiting, m.I)
		r.finishRound()
	}
}

// finishRound closes the reconnect check once the listener is proven and
// every known replica has spoken.
func (r *pgRelay) finishRound() {
	rd := r.round
	if rd == nil || !rd.echo || len(rd.waiting) > 0 {
		return
	}
	r.round = nil
	if rd.reconnect && !rd.resynced {
		r.recovered.Add(1)
		r.log.Info("events: listener reconnected; every replica accounted for, nothing was missed")
	}
}

func (r *pgRelay) resync(cause error) {
	r.log.Warn("events: events may have been missed; ending subscriptions so clients resync", "cause", cause)
	if r.round != nil {
		r.round.resynced = true
	}
	r.b.resyncAll(cause)
}

func (r *pgRelay) tick(now time.Time) {
	r.control(kindState, "")
	if r.connected && now.Sub(r.lastRecv) > 2*r.heartbeat {
		// Not even our own heartbeat came back: the connection is dead
		// whatever TCP thinks.
		r.log.Warn("events: listener heard nothing for two heartbeats; reconnecting")
		r.dropListener(false)
	}
	if rd := r.round; rd != nil && now.Sub(rd.start) >= r.syncTimeout {
		if !rd.echo {
			r.log.Warn("events: listener does not receive its own notifications; reconnecting")
			r.dropListener(false)
		} else {
			r.round = nil
			if len(rd.waiting) > 0 {
				ids := make([]string, 0, len(rd.waiting))
				for id := range rd.waiting {
					ids = append(ids, id)
					if p := r.peers[id]; p != nil {
						p.active = false
					}
				}
				if rd.reconnect && !rd.resynced {
					r.resync(fmt.Errorf("replicas %s did not report after the listener reconnected: %w",
						strings.Join(ids, ", "), ErrResync))
				}
			}
		}
	}
	for id, p := range r.peers {
		if p.active && now.Sub(p.heard) > 3*r.heartbeat {
			// Gone without a bye: killed, frozen or cut off. Kept,
			// inactive, so that if it speaks again its numbers are still
			// checked; reconnects stop waiting for it. It may have
			// committed a change it never announced (it died between a
			// commit and its NOTIFY), which no hole in its numbers will
			// ever show: nobody can vouch for the subscriptions any more.
			p.active = false
			r.resync(fmt.Errorf("replica %s went silent without a goodbye; what it committed last may never have been announced: %w", id, ErrResync))
		}
	}
	r.countPeers()
}

// prunePeers bounds memory against an endless stream of replicas that
// vanished without a bye, forgetting inactive ones first.
func (r *pgRelay) prunePeers() {
	if len(r.peers) <= maxSilentPeers {
		return
	}
	var oldest string
	var at time.Time
	for id, p := range r.peers {
		if !p.active && (oldest == "" || p.heard.Before(at)) {
			oldest, at = id, p.heard
		}
	}
	if oldest != "" {
		delete(r.peers, oldest)
	}
}

func (r *pgRelay) countPeers() {
	n := 0
	for _, p := range r.peers {
		if p.active {
			n++
		}
	}
	r.activePeers.Store(int64(n))
}

func (r *pgRelay) stats(st *Stats) {
	st.Listening = r.listening.Load()
	st.Reconnects = r.reconnects.Load()
	st.Recovered = r.recovered.Load()
	st.Peers = int(r.activePeers.Load())
	st.Sent = r.sent.Load()
	st.SendFailures = r.sendFailures.Load()
}

// close says goodbye, stops the goroutines and closes the listener. The
// sender gets a bounded time to flush.
func (r *pgRelay) close() {
	r.closeOnce.Do(func() {
		r.qmu.Lock()
		if !r.qclosed {
			select {
			case r.queue <- outItem{kind: kindBye, seq: r.seq}:
			default:
			}
			r.qclosed = true
			close(r.queue)
		}
		r.qmu.Unlock()
		close(r.stop)
		r.dropListener(true)
		r.wg.Wait()
		r.listening.Store(false)
		t := time.NewTimer(2 * sendTimeout)
		defer t.Stop()
		select {
		case <-r.sendDone:
		case <-t.C:
			r.log.Warn("events: gave up flushing the relay queue at shutdown")
		}
	})
}
