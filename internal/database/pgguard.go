package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"

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

// watch closes the connection if ctx ends before stop is called. A close
// that ctx started has happened when stop returns: the close runs in a
// goroutine of its own, and a connection handed back to the pool before
// that goroutine ran would be closed later under whoever took it next
// (reading "use of closed network connection"). Closed when the pool
// gets it back, it is dropped (IsValid) instead.
func (cn *guardedConn) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	closed := make(chan struct{})
	stopClose := context.AfterFunc(ctx, func() {
		_ = cn.Conn.Close()
		close(closed)
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			if !stopClose() {
				<-closed
			}
		})
	}
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
	stop := cn.watch(ctx)
	defer stop()
	st, err := cn.Conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, cn.fail(err)
	}
	return &guardedStmt{Stmt: st, cn: cn}, nil
}

func (cn *guardedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	stop := cn.watch(ctx)
	defer stop()
	res, err := cn.Conn.ExecContext(ctx, query, args)
	return res, cn.fail(err)
}

func (cn *guardedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stop := cn.watch(ctx)
	rows, err := cn.Conn.QueryContext(ctx, query, args)
	if err != nil {
		stop()
		return nil, cn.fail(err)
	}
	return &guardedRows{Rows: rows, cn: cn, stop: stop}, nil
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
	stop := st.cn.watch(ctx)
	defer stop()
	res, err := st.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	return res, st.cn.fail(err)
}

func (st *guardedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	stop := st.cn.watch(ctx)
	rows, err := st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		stop()
		return nil, st.cn.fail(err)
	}
	return &guardedRows{Rows: rows, cn: st.cn, stop: stop}, nil
}

// guardedRows keeps watching the context while the rows are read.
type guardedRows struct {
	driver.Rows
	cn   *guardedConn
	stop func()
}

func (r *guardedRows) Next(dest []driver.Value) error {
	return r.cn.fail(r.Rows.Next(dest))
}

func (r *guardedRows) Close() error {
	r.stop()
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
