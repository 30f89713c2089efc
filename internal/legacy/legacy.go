// Package legacy is the REST shim that keeps the old "List Cutter" React
// frontend working (README, "The legacy REST API"). It only translates: request
// shapes in, feature-package calls, legacy response shapes out. Every
// business rule lives in auth, files, filter and lineage.
package legacy

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
	"github.com/cutline/cutline/internal/ratelimit"
)

// Defaults for the zero values of Handler's settings.
const (
	DefaultHandleTTL     = 24 * time.Hour
	DefaultScratchTTL    = time.Hour
	DefaultRatePerMinute = 60
)

// Handler serves the legacy REST API. Fill in the services, then call
// Register once; the auth middleware (auth.Service.Middleware) must run in
// front of the mux so that callers are known.
type Handler struct {
	Auth    *auth.Service
	Files   *files.Service
	Lineage *lineage.Service
	// Handles signs the opaque file_path handles; build it with
	// blobstore.NewSigner(secret, "legacy-file") so no other token verifies.
	Handles *blobstore.Signer
	// HandleTTL is how long a file_path handle stays valid (default 24h).
	HandleTTL time.Duration
	// ScratchTTL is how long an anonymous csv_cutter upload lives (default 1h).
	ScratchTTL time.Duration
	// RatePerMinute is the request budget of one client across the shim
	// (default 60, as the old server's throttle): of each logged-in user,
	// and of each client address for anonymous requests.
	RatePerMinute int
	// Throttle, when set, keeps that budget (a limit shared by replicas);
	// otherwise the shim keeps it in this process.
	Throttle ratelimit.Limit
	Log      *slog.Logger

	now      func() time.Time
	throttle ratelimit.Limit
}

// clocked is a limit in this process on the shim's clock.
type clocked struct {
	l   *ratelimit.Limiter
	now func() time.Time
}

func (c clocked) Take(_ context.Context, key string) (bool, time.Duration) {
	return c.l.Allow(key, c.now())
}

// endpoint names a route for the error mapping: the old server worded the
// same failure differently from one view to the next, and the frontend
// sometimes matches on the words.
type endpoint int

const (
	epIndex endpoint = iota
	epCutter
	epExport
	epUpload
	epList
	epDownload
	epDelete
	epSave
	epTags
	epFetch
	epLineage
	epRegister
	epLogin
	epRefresh
	epUser
)

// handlerFunc is a route's implementation. A returned error has not been
// answered yet; fail turns it into the legacy shape. A handler that has
// already started its response logs instead and returns nil.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint with the methods it answers.
type route struct {
	ep      endpoint
	methods map[string]handlerFunc
	allow   string
	// notFound marks the catch-all of a prefix: every method gets 404.
	notFound bool
}

// IsPage reports whether path answers an HTML page (the index), which the
// server's API content security policy would break.
func IsPage(path string) bool { return path == "/" || path == "/api/list_cutter/" }

// IsStream reports whether path is an endpoint whose body or answer is a
// whole file (exports, downloads, fetched files), which the server exempts
// from the request deadline and the body cap.
func IsStream(path string) bool {
	return strings.Contains(path, "/export_csv") || strings.Contains(path, "/download/") ||
		strings.Contains(path, "/fetch_saved_file")
}

// Register mounts all the endpoints on mux: the list_cutter routes under
// /api/list_cutter/ and at the root (the old server had both), the account
// routes under /api/accounts/, and the index page at / and
// /api/list_cutter/. Every route answers with and without its trailing
// slash, directly: patterns are exact ({$} or no slash), so ServeMux never
// redirects (a redirected POST would lose its body).
func (h *Handler) Register(mux *http.ServeMux) {
	if h.Auth == nil || h.Files == nil || h.Lineage == nil || h.Handles == nil {
		// A wiring mistake: better to stop at start-up than to fail requests.
		panic("legacy: Handler needs Auth, Files, Lineage and Handles")
	}
	if h.HandleTTL <= 0 {
		h.HandleTTL = DefaultHandleTTL
	}
	if h.ScratchTTL <= 0 {
		h.ScratchTTL = DefaultScratchTTL
	}
	if h.RatePerMinute <= 0 {
		h.RatePerMinute = DefaultRatePerMinute
	}
	if h.Log == nil {
		h.Log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	// A burst of a minute's budget, refilled continuously: the old
	// server's throttle.
	h.throttle = h.Throttle
	if h.throttle == nil {
		h.throttle = clocked{ratelimit.New(float64(h.RatePerMinute)/60, h.RatePerMinute), h.clock}
	}

	get := func(f handlerFunc) map[string]handlerFunc { return map[string]handlerFunc{http.MethodGet: f} }
	post := func(f handlerFunc) map[string]handlerFunc { return map[string]handlerFunc{http.MethodPost: f} }

	index := &route{ep: epIndex, methods: get(h.index)}
	h.mount(mux, "/", index)
	h.mount(mux, "/api/list_cutter", index)

	cutter := []struct {
		path string
		rt   *route
	}{
		{"csv_cutter", &route{ep: epCutter, methods: post(h.csvCutter)}},
		{"export_csv", &route{ep: epExport, methods: post(h.exportCSV)}},
		{"upload", &route{ep: epUpload, methods: post(h.upload)}},
		{"list_saved_files", &route{ep: epList, methods: get(h.listSavedFiles)}},
		{"download/{file_name}", &route{ep: epDownload, methods: get(h.download)}},
		{"delete/{file_id}", &route{ep: epDelete, methods: map[string]handlerFunc{http.MethodDelete: h.deleteFile}}},
		{"save_generated_file", &route{ep: epSave, methods: post(h.saveGeneratedFile)}},
		{"update_tags/{file_id}", &route{ep: epTags, methods: map[string]handlerFunc{http.MethodPatch: h.updateTags}}},
		{"fetch_saved_file/{file_id}", &route{ep: epFetch, methods: get(h.fetchSavedFile)}},
		{"fetch_file_lineage/{file_id}", &route{ep: epLineage, methods: get(h.fetchFileLineage)}},
	}
	for _, c := range cutter {
		h.mount(mux, "/api/list_cutter/"+c.path, c.rt)
		h.mount(mux, "/"+c.path, c.rt)
	}

	// Anything else under the shim's prefixes is DRF's JSON 404, not the
	// mux's plain-text page: the frontend parses every answer as JSON.
	notFound := h.serve(&route{ep: epIndex, methods: map[string]handlerFunc{}, notFound: true})
	mux.Handle("/api/list_cutter/", notFound)
	mux.Handle("/api/accounts/", notFound)

	h.mount(mux, "/api/accounts/register", &route{ep: epRegister, methods: post(h.register)})
	h.mount(mux, "/api/accounts/login", &route{ep: epLogin, methods: post(h.login)})
	h.mount(mux, "/api/accounts/token/refresh", &route{ep: epRefresh, methods: post(h.refresh)})
	h.mount(mux, "/api/accounts/user", &route{ep: epUser, methods: get(h.user)})
}

// mount registers rt at path (given without its trailing slash) in both
// slash forms. Allow lists the methods as DRF did: the view's own, HEAD
// beside GET, then OPTIONS.
func (h *Handler) mount(mux *http.ServeMux, path string, rt *route) {
	allow := make([]string, 0, len(rt.methods)+2)
	for m := range rt.methods {
		allow = append(allow, m)
		if m == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	slices.Sort(allow)
	rt.allow = strings.Join(append(allow, http.MethodOptions), ", ")

	hf := h.serve(rt)
	if path == "/" {
		mux.Handle("/{$}", hf)
		return
	}
	mux.Handle(path, hf)
	mux.Handle(path+"/{$}", hf)
}

// serve wraps a route: throttle, method dispatch with DRF's 405, then the
// handler, whose error goes through the one mapping function.
func (h *Handler) serve(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := h.throttle.Take(r.Context(), throttleKey(r)); !ok {
			h.fail(w, r, rt.ep, &throttled{wait: wait})
			return
		}
		if rt.notFound {
			writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not found."})
			return
		}
		method := r.Method
		if method == http.MethodHead {
			// Django serves HEAD with the GET view; net/http drops the body.
			method = http.MethodGet
		}
		fn := rt.methods[method]
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", rt.allow)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if fn == nil {
			w.Header().Set("Allow", rt.allow)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{
				"detail": `Method "` + r.Method + `" not allowed.`,
			})
			return
		}
		if err := fn(w, r); err != nil {
			h.fail(w, r, rt.ep, err)
		}
	})
}

// throttleKey is whose budget a request spends: the logged-in user's, as
// the old server's user throttle did, so that people behind one proxy do
// not share one; an anonymous request's client address.
func throttleKey(r *http.Request) string {
	if c, ok := auth.CallerFrom(r.Context()); ok {
		return "user:" + strconv.FormatInt(c.UserID, 10)
	}
	return "ip:" + auth.ClientKey(r)
}

// clock is the shim's notion of now; tests move it.
func (h *Handler) clock() time.Time {
	if h.now == nil {
		return time.Now()
	}
	return h.now()
}

// indexPage is what the old server showed at its root: a sign of life.
const indexPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>List Cutter API</title></head>
<body>
<h1>List Cutter API</h1>
<p>This server speaks the List Cutter REST API under <code>/api/list_cutter/</code> and <code>/api/accounts/</code>, and GraphQL at <code>/graphql</code>.</p>
</body>
</html>
`

// index is endpoint #1.
func (h *Handler) index(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(indexPage))
	return nil
}
