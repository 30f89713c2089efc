package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun/driver/pgdriver"
)

// guardedConnector hands out pgdriver connections that end their
// statement with its context. pgdriver stops waiting at the context's
// deadline (a socket deadline) but ignores a cancellation, and a prepared
// statement that fails that way leaves its connection in the pool with
// the statement still running on the server: the next user of the
// connection would read the previous one's answer. Here a cancelled
// context closes the connection, and so does any failure that is not the
// server's own answer; PostgreSQL notices the closed connection within
// ClientCheckInterval and stops the statement.
type guardedConnector struct{ *pgdriver.Connector }

// Connect opens a guarded connection.
func (c guardedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(*pgdriver.Conn)
	if !ok {
		return cn, nil
	}
	return &guardedConn{Conn: pc}, nil
}

// PostgresConnector is the connector every PostgreSQL pool of the server
// uses: pgdriver with the session settings params, guarded as above.
// Parameters the URL carries itself (search_path...) are kept, and win
// over params: the operator wrote them.
// A URL the driver cannot read is an error naming what is wrong, without
// the URL (it may hold a password).
func PostgresConnector(dsn string, params map[string]any) (driver.Connector, error) {
	opts := []pgdriver.Option{pgdriver.WithDSN(dsn), pgdriver.WithApplicationName("cutline")}
	if params != nil {
		opts = append(opts, defaultConnParams(params))
	}
	c, err := newConnector(opts)
	if err != nil {
		return nil, err
	}
	return guardedConnector{c}, nil
}

// newConnector is pgdriver.NewConnector with its panic on a bad URL (from
// WithDSN) returned as an error.
func newConnector(opts []pgdriver.Option) (c *pgdriver.Connector, err error) {
	defer func() {
		if p := recover(); p != nil {
			cause, ok := p.(error)
			if !ok {
				panic(p)
			}
			var ue *url.Error
			if errors.As(cause, &ue) {
				cause = ue.Err // url.Error repeats the URL
			}
			err = fmt.Errorf("invalid PostgreSQL URL: %w", cause)
		}
	}()
	return pgdriver.NewConnector(opts...), nil
}

// defaultConnParams adds params to the connection parameters the URL set,
// leaving those alone. pgdriver.WithConnParams would replace them all.
func defaultConnParams(params map[string]any) pgdriver.Option {
	return func(c *pgdriver.Config) {
		merged := make(map[string]any, len(c.ConnParams)+len(params))
		for k, v := range params {
			merged[k] = v
		}
		for k, v := range c.ConnParams {
			merged[k] = v
		}
		c.ConnParams = merged
	}
}

type guardedConn struct{ *pgdriver.Conn }

// watch closes the connection if ctx ends before the watch is stopped.
// A close that ctx started has happened when stop returns: the close runs
// in a goroutine of its own, and a connection handed back to the pool
// before that goroutine ran would be closed later under whoever took it
// next (reading "use of closed network connection"). Closed when the pool
// gets it back, it is dropped (IsValid) instead.
func (cn *guardedConn) watch(ctx context.Context) *watch {
	w := &watch{ctx: ctx}
	if ctx.Done() == nil {
		return w
	}
	w.closed = make(chan struct{})
	w.stopClose = context.AfterFunc(ctx, func() {
		w.fired.Store(true)
		_ = cn.Conn.Close()
		close(w.closed)
	})
	return w
}

// watch is one statement's watch on its context.
type watch struct {
	ctx       context.Context
	stopClose func() bool // nil: the context cannot end
	closed    chan struct{}
	fired     atomic.Bool
	once      sync.Once
}

func (w *watch) stop() {
	if w.stopClose == nil {
		return
	}
	w.once.Do(func() {
		if !w.stopClose() {
			<-w.closed
		}
	})
}

// ended is the statement's error as its caller should see it. A statement
// whose connection the watch closed because the caller cancelled its
// context fails reading or writing the closed socket; that is the
// cancellation, not the database going away, which the socket's error
// would otherwise say (an outage, logged and answered as one).
func (w *watch) ended(err error) error {
	var pgErr pgdriver.Error
	if err == nil || err == io.EOF || !w.fired.Load() || !errors.Is(w.ctx.Err(), context.Canceled) || errors.As(err, &pgErr) {
		return err
	}
	return fmt.Errorf("%w (its connection was closed: %v)", w.ctx.Err(), err)
}

// fail closes the connection after a failure that leaves it in an unknown
// state: anything but an error the server answered with.
func (cn *guardedConn) fail(err error) error {
	var pgErr pgdriver.Error
	if err != nil && err != io.EOF && !errors.As(err, &pgErr) {
		_ = cn.Conn.Close()
	}
	return err
}

func (cn *guardedConn) Prepare(query string) (driver.Stmt, error) {
	return cn.PrepareContext(context.Background(), query)
}

func (cn *guardedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	w := cn.watch(ctx)
	defer w.stop()
	st, err := cn.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, w.ended(cn.fail(err))
	}
	return &guardedStmt{Stmt: st, cn: cn}, nil
}

func (cn *guardedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	w := cn.watch(ctx)
	defer w.stop()
	res, err := cn.Conn.ExecContext(ctx, query, args)
	return res, w.ended(cn.fail(err))
}

func (cn *guardedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	w := cn.watch(ctx)
	rows, err := cn.Conn.QueryContext(ctx, query, args)
	if err != nil {
		w.stop()
		return nil, w.ended(cn.fail(err))
	}
	return &guardedRows{Rows: rows, cn: cn, w: w}, nil
}

type guardedStmt struct {
	driver.Stmt
	cn *guardedConn
}

// Close deallocates the statement on the server, unless its connection
// is closed: the server dropped the session's statements with the
// session. pgdriver would write the deallocation to the closed socket and
// log the failed write, once per statement the pool prepared on a
// connection that a cancelled statement closed.
func (st *guardedStmt) Close() error {
	if !st.cn.IsValid() {
		return nil
	}
	return st.Stmt.Close()
}

func (st *guardedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	w := st.cn.watch(ctx)
	defer w.stop()
	res, err := st.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, w.ended(st.cn.fail(err))
}

func (st *guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	w := st.cn.watch(ctx)
	rows, err := st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		w.stop()
		return nil, w.ended(st.cn.fail(err))
	}
	return &guardedRows{Rows: rows, cn: st.cn, w: w}, nil
}

// guardedRows keeps watching the context while the rows are read.
type guardedRows struct {
	driver.Rows
	cn *guardedConn
	w  *watch
}

func (r *guardedRows) Next(dest []driver.Value) error {
	return r.w.ended(r.cn.fail(r.Rows.Next(dest)))
}

func (r *guardedRows) Close() error {
	r.w.stop()
	return r.Rows.Close()
}

var (
	_ driver.Connector          = guardedConnector{}
	_ driver.ConnPrepareContext = (*guardedConn)(nil)
	_ driver.ExecerContext      = (*guardedConn)(nil)
	_ driver.QueryerContext     = (*guardedConn)(nil)
	_ driver.StmtQueryContext   = (*guardedStmt)(nil)
	_ driver.StmtExecContext    = (*guardedStmt)(nil)
)
