package events

// How replicas share events, and how a listener knows what it missed.
//
// A change and its announcement commit together. The transaction that
// changes a file ends with one statement (Announce) that adds the number
// of its events to this process's row of event_sources and NOTIFYs them,
// numbered by that count. PostgreSQL delivers a transaction's
// notifications when, and only if, it commits, so a process killed right
// after a commit has already told every listening replica; a transaction
// that rolls back takes its numbers with it, leaving no hole; and a COMMIT
// whose answer was lost has been announced exactly when it committed. The
// row stays locked until the commit, so one process's transactions that
// announce commit one after the other and its numbers arrive in order: a
// hole means notifications went missing, which happens only to a listener
// that was not listening when they were sent. Payloads carry ids only;
// subscribers load what they show with their own permissions. The price:
// PostgreSQL queues a transaction's notifications under one lock that
// every transaction with notifications holds through its commit, so the
// commits of changes go one at a time (what it costs is in
// docs/BENCHMARKS.md, "Live events"). On SQLite there is one
// process and no relay: events stay in it (events.go).
//
// Every process has a random instance id and a row of its own, created at
// start and deleted by a clean shutdown; rows of processes that died are
// pruned once nobody has refreshed them for staleAfter. Messages carry S,
// a number of the sender's, so any of them lets a listener check that it
// has everything before it. The kinds:
//
//	e  events, numbered up to S
//	h  "my count is S": a heartbeat, read from the row as it is refreshed
//	q  a listener's own marker, with a nonce, for a round (below)
//	b  bye, on a clean shutdown: forget me (the row goes with it)
//
// A listener checks what it heard against the database in rounds: it reads
// every row's count, then NOTIFYs its own q. Every notification of a
// transaction the read saw was queued before that q, so once the q comes
// back (which also proves the LISTEN works) each row's count must match
// the last number heard from that process. A round runs after every
// (re)connection of the listener, and whenever another replica falls
// silent (no heartbeat for three periods, no bye): its death cannot lose
// an event (what it committed was announced), but is worth the check. A count ahead of
// what was heard, a process that published while the listener was away
// and then said goodbye (its row is gone), a hole in a process's numbers
// or a number heard twice (a process whose row was pruned while it lived)
// ends every subscription with ErrResync, since the lost events could
// have concerned anyone.
//
// A process's own events reach its own subscribers directly, after the
// commit, so they never depend on the listener; its listener ignores them.
// When a COMMIT goes unanswered the process cannot know whether to deliver
// them, and ends its subscriptions of that owner with ErrResync instead
// (Uncertain): a spurious resync now and then, never a lost event.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
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
	// SyncTimeout bounds a round (see above): a listener whose own q has
	// not come back within it, with the counts read, reconnects (default
	// 10s; checked on heartbeats).
	SyncTimeout time.Duration
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
	// sendTimeout bounds one control statement or one LISTEN.
	sendTimeout = 5 * time.Second
	// startTimeout bounds NewPostgres waiting for its listener to work.
	startTimeout = 30 * time.Second
	// maxPayload keeps NOTIFY payloads below PostgreSQL's 8000-byte limit.
	maxPayload = 7000
	// maxSilentPeers bounds the replicas remembered after they went quiet.
	maxSilentPeers = 1000
	// staleAfter is how long a process's row may go without a heartbeat
	// before any replica prunes it. A listener away for longer resyncs,
	// since a row pruned meanwhile can no longer vouch for it.
	staleAfter = time.Hour
	// pruneEvery is how many heartbeats pass between two prunings.
	pruneEvery = 30
	// ctlQueue bounds the control messages waiting to be sent.
	ctlQueue = 16
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

// wireEvent is one event. S may be left out: the events of a message are
// then numbered up to the message's S.
type wireEvent struct {
	S uint64 `json:"s,omitempty"`
	T string `json:"t"`
	O int64  `json:"o"`
	F string `json:"f"`
}

// ctlItem is one control message for the sender.
type ctlItem struct {
	kind  string
	nonce string
	prune bool
}

type sigKind int

const (
	sigConnected sigKind = iota // a listener connection is up and LISTEN sent
	sigLost                     // the connection that was up is gone
	sigFailed                   // an attempt to connect failed
	sigMsg                      // a notification
	sigCounts                   // the counts read for a round's q
)

type signal struct {
	kind    sigKind
	payload string
	err     error
	nonce   string
	counts  map[string]uint64
}

type peer struct {
	last   uint64
	heard  time.Time
	active bool // heard within three heartbeats
}

// syncRound is one check of what the listener heard against the counts in
// the database. Each q it sends (a retry when the first raced the LISTEN,
// or when reading the counts failed) is an attempt of its own.
type syncRound struct {
	start     time.Time
	reconnect bool          // after a lost connection: a difference is a loss
	away      time.Duration // how long the listener was disconnected
	attempts  map[string]*attempt
}

type attempt struct {
	echo   bool
	counts map[string]uint64 // nil until read
}

type pgRelay struct {
	b                      *Broker
	db                     *bun.DB
	log                    *slog.Logger
	channel, instance      string
	heartbeat, syncTimeout time.Duration
	beforeListen           func()

	// Sending control messages, in order, from one goroutine.
	cmu       sync.Mutex
	ctl       chan ctlItem
	ctlClosed bool
	sendDone  chan struct{}

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
	peers     map[string]*peer
	baseline  bool // a first round is done: a replica never heard of starts at 0
	connected bool
	ever      bool // a listener connection was up before
	lostAt    time.Time
	lastRecv  time.Time
	round     *syncRound
	askRetry  *time.Timer
	askDelay  time.Duration
	ticks     int

	// Counters for Stats.
	listening    atomic.Bool
	reconnects   atomic.Int64
	recovered    atomic.Int64
	checks       atomic.Int64
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
// event its transactions Announce. It registers this process in
// event_sources and returns once its listener is known to receive. Close
// it to stop the relay and tell the other replicas this one is gone.
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
		ctl: make(chan ctlItem, ctlQueue), sendDone: make(chan struct{}), inbox: make(chan signal, 64),
		stop: make(chan struct{}), ready: make(chan struct{}), peers: map[string]*peer{},
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
	if _, err := db.DB.ExecContext(ctx, `INSERT INTO event_sources (instance, seq, seen_at) VALUES ($1, 0, now())`,
		r.instance); err != nil {
		return nil, fmt.Errorf("events: register this process in event_sources: %w", err)
	}
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

// announce counts evs in this process's row and NOTIFYs them, numbered by
// that count, in one statement on db, the transaction that makes the
// change. The row's lock, held to the commit, orders this process's
// announcing transactions; an upsert recreates a row that was pruned.
func (r *pgRelay) announce(ctx context.Context, db bun.IDB, evs ...files.Event) error {
	if len(evs) == 0 {
		return nil
	}
	chunks := encodeEvents(r.instance, evs)
	var q strings.Builder
	q.WriteString(`WITH c AS (INSERT INTO event_sources (instance, seq, seen_at) VALUES (?, ?, now())
ON CONFLICT (instance) DO UPDATE SET seq = event_sources.seq + excluded.seq, seen_at = excluded.seen_at
RETURNING seq) SELECT `)
	args := make([]any, 0, 2+2*len(chunks))
	args = append(args, r.instance, len(evs))
	after := len(evs)
	for i, ch := range chunks {
		after -= ch.events // events in later chunks: numbered after this one's
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "pg_notify(?, ?::text || (c.seq - %d)::text || '}')", after)
		args = append(args, r.channel, ch.prefix)
	}
	q.WriteString(" FROM c")
	if _, err := db.ExecContext(ctx, q.String(), args...); err != nil {
		r.sendFailures.Add(int64(len(evs)))
		return fmt.Errorf("events: announce %d events: %w", len(evs), err)
	}
	r.sent.Add(int64(len(evs)))
	return nil
}

// chunk is the start of one events message, up to its "s":, which the
// database completes with the message's last number.
type chunk struct {
	prefix string
	events int
}

// encodeEvents splits evs into messages under maxPayload; each leaves out
// the events' own numbers, which follow from the message's.
func encodeEvents(instance string, evs []files.Event) []chunk {
	var out []chunk
	var cur []wireEvent
	size := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		b, _ := json.Marshal(cur)
		out = append(out, chunk{prefix: `{"k":"e","i":` + quote(instance) + `,"e":` + string(b) + `,"s":`, events: len(cur)})
		cur, size = nil, 0
	}
	for _, ev := range evs {
		e := wireEvent{T: string(ev.Type), O: ev.OwnerID, F: ev.FileID}
		n := len(e.T) + len(e.F) + 40 // field names, punctuation, a number
		if size+n > maxPayload-60-len(instance) {
			flush()
		}
		cur = append(cur, e)
		size += n
	}
	flush()
	return out
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// control queues a control message for the sender without waiting: a lost
// heartbeat or q only makes a listener wait, or ask again.
func (r *pgRelay) control(it ctlItem) {
	r.cmu.Lock()
	defer r.cmu.Unlock()
	if r.ctlClosed {
		return
	}
	select {
	case r.ctl <- it:
	default:
	}
}

// send runs the control statements in order. They go through database/sql
// rather than bun so that relay traffic stays out of the query hooks that
// count, trace and time the application's own queries.
func (r *pgRelay) send() {
	defer close(r.sendDone)
	for it := range r.ctl {
		ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
		var err error
		switch it.kind {
		case kindState:
			err = r.beat(ctx, it.prune)
		case kindQuery:
			var counts map[string]uint64
			counts, err = r.ask(ctx, it.nonce)
			if err == nil {
				r.signal(signal{kind: sigCounts, nonce: it.nonce, counts: counts})
			}
		case kindBye:
			err = r.bye(ctx)
		}
		cancel()
		if err != nil {
			r.log.Warn("events: a relay message could not be sent", "kind", it.kind, "err", err)
			if isDBClosed(err) {
				// The pool is gone (the app is closing, or a test
				// ended): stop rather than retry forever.
				go r.close()
			}
		}
	}
}

// beat refreshes this process's row (recreating it if it was pruned) and
// NOTIFYs its count, read under the row's lock: every event counted has
// been notified before the heartbeat. With prune it also removes the rows
// of processes gone silent for staleAfter.
func (r *pgRelay) beat(ctx context.Context, prune bool) error {
	if prune {
		if _, err := r.db.DB.ExecContext(ctx, `DELETE FROM event_sources WHERE seen_at < now() - $1 * interval '1 second'`,
			staleAfter.Seconds()); err != nil {
			return fmt.Errorf("prune event_sources: %w", err)
		}
	}
	_, err := r.db.DB.ExecContext(ctx, `WITH c AS (INSERT INTO event_sources (instance, seq, seen_at) VALUES ($1, 0, now())
ON CONFLICT (instance) DO UPDATE SET seen_at = excluded.seen_at RETURNING seq)
SELECT pg_notify($2, $3::text || c.seq::text || '}') FROM c`,
		r.instance, r.channel, `{"k":"h","i":`+quote(r.instance)+`,"s":`)
	return err
}

// ask reads every process's count, then NOTIFYs a q: notifications of the
// transactions the read saw were all queued before it.
func (r *pgRelay) ask(ctx context.Context, nonce string) (map[string]uint64, error) {
	rows, err := r.db.DB.QueryContext(ctx, "SELECT instance, seq FROM event_sources")
	if err != nil {
		return nil, fmt.Errorf("read event_sources: %w", err)
	}
	counts, err := scanCounts(rows)
	if err != nil {
		return nil, fmt.Errorf("read event_sources: %w", err)
	}
	b, _ := json.Marshal(wireMsg{K: kindQuery, I: r.instance, N: nonce})
	if _, err := r.db.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", r.channel, string(b)); err != nil {
		return nil, err
	}
	return counts, nil
}

func scanCounts(rows *sql.Rows) (map[string]uint64, error) {
	defer rows.Close()
	counts := map[string]uint64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		counts[id] = uint64(n)
	}
	return counts, rows.Err()
}

// bye deletes this process's row and says so, with its last count.
func (r *pgRelay) bye(ctx context.Context) error {
	_, err := r.db.DB.ExecContext(ctx, `WITH d AS (DELETE FROM event_sources WHERE instance = $1 RETURNING seq)
SELECT pg_notify($2, $3::text || coalesce((SELECT max(seq) FROM d), 0)::text || '}')`,
		r.instance, r.channel, `{"k":"b","i":`+quote(r.instance)+`,"s":`)
	return err
}

// isDBClosed reports database/sql's error for a closed pool, which has no
// exported sentinel.
func isDBClosed(err error) bool {
	return err != nil && strings.Contains(err.Error(), "sql: database is closed")
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
// seen, delivers other replicas' events, runs the rounds, and watches the
// listener's health.
func (r *pgRelay) run() {
	defer r.wg.Done()
	tick := time.NewTicker(r.heartbeat)
	defer tick.Stop()
	r.askRetry = time.NewTimer(time.Hour)
	r.askRetry.Stop()
	defer r.askRetry.Stop()
	for {
		select {
		case <-r.stop:
			return
		case s := <-r.inbox:
			r.handle(s, time.Now())
		case now := <-tick.C:
			r.tick(now)
		case <-r.askRetry.C:
			// The q may have committed a moment before the new LISTEN took
			// effect, or the counts could not be read: ask again until one
			// attempt has both.
			if r.round != nil {
				r.askAgain()
			}
		}
	}
}

// startRound begins a check of what was heard against the database.
func (r *pgRelay) startRound(now time.Time, reconnect bool, away time.Duration) {
	r.round = &syncRound{start: now, reconnect: reconnect, away: away, attempts: map[string]*attempt{}}
	r.askDelay = 10 * time.Millisecond
	r.askAgain()
}

func (r *pgRelay) askAgain() {
	nonce := newID()
	r.round.attempts[nonce] = &attempt{}
	r.control(ctlItem{kind: kindQuery, nonce: nonce})
	r.askRetry.Reset(r.askDelay)
	r.askDelay = min(2*r.askDelay, time.Second)
}

func (r *pgRelay) handle(s signal, now time.Time) {
	switch s.kind {
	case sigConnected:
		r.connected, r.lastRecv = true, now
		reconnect := r.ever
		var away time.Duration
		if reconnect {
			r.reconnects.Add(1)
			away = now.Sub(r.lostAt)
		}
		r.ever = true
		r.startRound(now, reconnect, away)
	case sigLost:
		if r.connected {
			r.log.Warn("events: listener connection lost; reconnecting", "err", s.err)
			r.lostAt = now
		}
		r.connected, r.round = false, nil
		r.askRetry.Stop()
		r.listening.Store(false)
	case sigFailed:
		r.log.Warn("events: listener cannot connect; retrying", "err", s.err)
	case sigMsg:
		r.lastRecv = now
		r.message(s.payload, now)
	case sigCounts:
		if rd := r.round; rd != nil {
			if at := rd.attempts[s.nonce]; at != nil {
				at.counts = s.counts
				r.finishRound(at)
			}
		}
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
		// proves the LISTEN works, and closes a round.
		if rd := r.round; m.K == kindQuery && rd != nil {
			if at := rd.attempts[m.N]; at != nil && !at.echo {
				at.echo = true
				r.listening.Store(true)
				r.finishRound(at)
			}
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
	// Events whose numbers were left out are numbered up to m.S.
	for i := range m.E {
		if m.E[i].S == 0 {
			m.E[i].S = m.S - uint64(len(m.E)-1-i)
		}
	}
	p := r.peers[m.I]
	if p == nil {
		if m.K == kindBye {
			return
		}
		// Once a first round has read the counts, every replica that
		// existed then is known: a new one starts at 0. Before that, what
		// it numbered earlier is none of this listener's business.
		var base uint64
		if !r.baseline {
			base = m.S
			if len(m.E) > 0 {
				base = m.E[0].S - 1
			}
		}
		p = &peer{last: base}
		r.peers[m.I] = p
		r.prunePeers()
	}
	for _, e := range m.E {
		switch {
		case e.S <= p.last:
			// Notifications are never delivered twice: the replica's count
			// started again (its row was pruned while it lived).
			lost(fmt.Errorf("replica %s numbered an event %d again, after %d: %w", m.I, e.S, p.last, ErrResync))
		case e.S > p.last+1:
			lost(fmt.Errorf("events %d-%d of replica %s never arrived: %w", p.last+1, e.S-1, m.I, ErrResync))
		}
		p.last = e.S
		r.b.deliver(files.Event{Type: files.EventType(e.T), FileID: e.F, OwnerID: e.O})
	}
	if m.K != kindQuery {
		if m.S > p.last {
			lost(fmt.Errorf("events %d-%d of replica %s never arrived: %w", p.last+1, m.S, m.I, ErrResync))
		}
		// A count lower than the last number heard was started again
		// from a recreated row; the events after it are checked from it.
		p.last = m.S
	}
	p.heard, p.active = now, true
	if m.K == kindBye {
		delete(r.peers, m.I)
	}
	r.countPeers()
}

// finishRound closes the round once one attempt has both its q back and
// its counts: every count must then match what was heard.
func (r *pgRelay) finishRound(at *attempt) {
	rd := r.round
	if rd == nil || !at.echo || at.counts == nil {
		return
	}
	r.round = nil
	r.askRetry.Stop()
	var missed []string
	for id, n := range at.counts {
		if id == r.instance {
			continue
		}
		p := r.peers[id]
		if p == nil {
			p = &peer{}
			r.peers[id] = p
		}
		if p.last < n {
			missed = append(missed, fmt.Sprintf("%s %d-%d", id, p.last+1, n))
			p.last = n
		}
	}
	// A replica known here whose row is gone said goodbye, or was pruned.
	// Heard live, its bye came before the q; after a disconnect, what it
	// published before leaving can no longer be counted. One heard during
	// the round started after the counts were read.
	var gone []string
	for id, p := range r.peers {
		if _, ok := at.counts[id]; !ok && p.heard.Before(rd.start) {
			gone = append(gone, id)
			delete(r.peers, id)
		}
	}
	r.prunePeers()
	r.countPeers()
	first := !r.baseline
	r.baseline = true
	r.checks.Add(1)
	r.readyOnce.Do(func() { close(r.ready) })
	switch {
	case first:
		// Nothing could be subscribed before the first round.
	case len(missed) > 0:
		r.resync(fmt.Errorf("events of replicas %s committed but never heard: %w", strings.Join(missed, ", "), ErrResync))
	case rd.reconnect && len(gone) > 0:
		r.resync(fmt.Errorf("replicas %s left while the listener was disconnected: %w", strings.Join(gone, ", "), ErrResync))
	case rd.reconnect && rd.away > staleAfter:
		r.resync(fmt.Errorf("the listener was disconnected for %s, longer than rows are kept: %w", rd.away.Round(time.Second), ErrResync))
	case rd.reconnect:
		r.recovered.Add(1)
		r.log.Info("events: listener reconnected; every replica accounted for, nothing was missed")
	}
}

func (r *pgRelay) resync(cause error) {
	r.log.Warn("events: events may have been missed; ending subscriptions so clients resync", "cause", cause)
	r.b.resyncAll(cause)
}

func (r *pgRelay) tick(now time.Time) {
	r.ticks++
	r.control(ctlItem{kind: kindState, prune: r.ticks%pruneEvery == 1})
	if r.connected && now.Sub(r.lastRecv) > 2*r.heartbeat {
		// Not even our own heartbeat came back: the connection is dead
		// whatever TCP thinks.
		r.log.Warn("events: listener heard nothing for two heartbeats; reconnecting")
		r.dropListener(false)
	}
	if rd := r.round; rd != nil && now.Sub(rd.start) >= r.syncTimeout {
		r.log.Warn("events: listener could not check itself against the database in time; reconnecting")
		r.dropListener(false)
	}
	silent := false
	for id, p := range r.peers {
		if p.active && now.Sub(p.heard) > 3*r.heartbeat {
			// Gone without a bye: killed, frozen or cut off. Kept,
			// inactive, so that if it speaks again its numbers are still
			// checked. What it committed was announced with the commit;
			// a round checks that it was all heard.
			p.active = false
			silent = true
			r.log.Info("events: a replica went silent without a goodbye; checking its count", "replica", id)
		}
	}
	if silent && r.connected && r.round == nil {
		r.startRound(now, false, 0)
	}
	r.countPeers()
}

// prunePeers bounds memory against an endless stream of replicas that
// vanished without a bye, forgetting inactive ones first.
func (r *pgRelay) prunePeers() {
	for len(r.peers) > maxSilentPeers {
		var oldest string
		var at time.Time
		for id, p := range r.peers {
			if !p.active && (oldest == "" || p.heard.Before(at)) {
				oldest, at = id, p.heard
			}
		}
		if oldest == "" {
			return
		}
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
	st.Checks = r.checks.Load()
	st.Peers = int(r.activePeers.Load())
	st.Sent = r.sent.Load()
	st.SendFailures = r.sendFailures.Load()
}

// close says goodbye, stops the goroutines and closes the listener. The
// sender gets a bounded time to finish.
func (r *pgRelay) close() {
	r.closeOnce.Do(func() {
		r.cmu.Lock()
		if !r.ctlClosed {
			select {
			case r.ctl <- ctlItem{kind: kindBye}:
			default:
			}
			r.ctlClosed = true
			close(r.ctl)
		}
		r.cmu.Unlock()
		close(r.stop)
		r.dropListener(true)
		r.wg.Wait()
		r.listening.Store(false)
		t := time.NewTimer(2 * sendTimeout)
		defer t.Stop()
		select {
		case <-r.sendDone:
		case <-t.C:
			r.log.Warn("events: gave up sending the goodbye at shutdown")
		}
	})
}
