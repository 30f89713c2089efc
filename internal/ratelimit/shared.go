package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// retryEvery is how often a limit that fell back to this process asks
// Redis again: one request per interval probes, the others do not wait.
const retryEvery = time.Second

// Shared keeps the token buckets in Redis (GCRA), so every replica draws
// on the same ones. When Redis does not answer within its timeout, each
// limit falls back to a bucket in this process and keeps serving; the
// switch is logged once each way and reported to the Observer. A nil
// *Shared makes limits in this process only.
type Shared struct {
	rdb     *redis.Client
	gcra    *redis_rate.Limiter
	prefix  string
	timeout time.Duration
	log     *slog.Logger
	obs     Observer

	down    atomic.Bool
	retryAt atomic.Int64 // unix nanoseconds of the next probe while down
}

// Observer is told whether the limits are shared: Shared(true) when Redis
// answers again, Shared(false) at each fall-back (a metrics gauge and a
// counter of fall-backs).
type Observer interface {
	SharedLimits(shared bool)
}

// SharedOptions are the settings of NewShared.
type SharedOptions struct {
	// Prefix starts every key, so that servers (or tests) sharing a Redis
	// keep apart.
	Prefix string
	// Timeout bounds each Redis call, dialling included.
	Timeout  time.Duration
	Log      *slog.Logger
	Observer Observer
}

// NewShared connects to the Redis of url (redis://, rediss://, unix://).
// It does not wait for Redis: a limit used before Redis answers falls
// back to this process. Close it when done.
func NewShared(url string, o SharedOptions) (*Shared, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 200 * time.Millisecond
	}
	// A limit must never hold a request up for long: no retries (of a
	// command or of a dial), and every wait bounded by the timeout.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = o.Timeout, o.Timeout, o.Timeout, o.Timeout
	opt.MaxRetries = -1
	opt.DialerRetries = 1
	opt.ContextTimeoutEnabled = true
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	rdb := redis.NewClient(opt)
	s := &Shared{rdb: rdb, gcra: redis_rate.NewLimiter(rdb), prefix: o.Prefix, timeout: o.Timeout, log: o.Log, obs: o.Observer}
	if s.obs != nil {
		s.obs.SharedLimits(true)
	}
	return s, nil
}

// Ping asks Redis once, and falls back (logging it) when it does not
// answer.
func (s *Shared) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	err := s.rdb.Ping(ctx).Err()
	if err != nil {
		s.failed(err)
		return fmt.Errorf("redis: %w", err)
	}
	s.answered()
	return nil
}

// Close closes the connections to Redis.
func (s *Shared) Close() error {
	if s == nil {
		return nil
	}
	return s.rdb.Close()
}

// Limit is a token bucket per key of perSecond tokens a second, burst at
// most, named name among the server's limits. A non-positive rate limits
// nothing. Without Redis (a nil s) it is a *Limiter.
func (s *Shared) Limit(name string, perSecond float64, burst int) Limit {
	local := New(perSecond, burst)
	if s == nil || !local.Enabled() {
		return local
	}
	// GCRA lets one request in every Period/Rate, up to Burst at once.
	l := redis_rate.Limit{Rate: 1, Burst: local.burst, Period: time.Duration(float64(time.Second) / perSecond)}
	return &sharedLimit{s: s, key: s.prefix + name + ":", limit: l, local: local}
}

type sharedLimit struct {
	s     *Shared
	key   string
	limit redis_rate.Limit
	local *Limiter
}

// Take asks Redis, or this process's bucket while Redis is down.
func (l *sharedLimit) Take(ctx context.Context, key string) (bool, time.Duration) {
	now := time.Now()
	if l.s.usable(now) {
		// A request that goes away must not look like Redis failing.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.s.timeout)
		res, err := l.s.gcra.Allow(rctx, l.key+key, l.limit)
		cancel()
		if err == nil {
			l.s.answered()
			if res.Allowed > 0 {
				return true, 0
			}
			return false, res.RetryAfter
		}
		l.s.failed(err)
	}
	return l.local.Allow(key, now)
}

// usable reports whether to ask Redis: always while it answers; once per
// retryEvery while it does not.
func (s *Shared) usable(now time.Time) bool {
	if !s.down.Load() {
		return true
	}
	at := s.retryAt.Load()
	return now.UnixNano() >= at && s.retryAt.CompareAndSwap(at, now.Add(retryEvery).UnixNano())
}

func (s *Shared) failed(err error) {
	s.retryAt.Store(time.Now().Add(retryEvery).UnixNano())
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("rate limits: Redis does not answer; each replica limits on its own until it does", "err", err)
		if s.obs != nil {
			s.obs.SharedLimits(false)
		}
	}
}

func (s *Shared) answered() {
	if s.down.CompareAndSwap(true, false) {
		s.log.Info("rate limits: Redis answers again; limits are shared")
		if s.obs != nil {
			s.obs.SharedLimits(true)
		}
	}
}
