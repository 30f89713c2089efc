package legacy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// TestRoutes sends every route on both mounts, with and without the
// trailing slash: the right method must reach the handler (no redirect, no
// mux 404), a wrong one must get DRF's 405 with Allow.
func TestRoutes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		id := missingID
		type rt struct {
			path, method, wrong string
			status              int // the answer of the right method, without token or body
			allow               string
		}
		cutter := []rt{
			{"csv_cutter", "POST", "GET", http.StatusBadRequest, "POST, OPTIONS"},
			{"export_csv", "POST", "GET", http.StatusBadRequest, "POST, OPTIONS"},
			{"upload", "POST", "GET", http.StatusUnauthorized, "POST, OPTIONS"},
			{"list_saved_files", "GET", "POST", http.StatusUnauthorized, "GET, HEAD, OPTIONS"},
			{"download/some.csv", "GET", "DELETE", http.StatusUnauthorized, "GET, HEAD, OPTIONS"},
			{"delete/" + id, "DELETE", "GET", http.StatusUnauthorized, "DELETE, OPTIONS"},
			{"save_generated_file", "POST", "GET", http.StatusUnauthorized, "POST, OPTIONS"},
			{"update_tags/" + id, "PATCH", "POST", http.StatusUnauthorized, "PATCH, OPTIONS"},
			{"fetch_saved_file/" + id, "GET", "PUT", http.StatusUnauthorized, "GET, HEAD, OPTIONS"},
			{"fetch_file_lineage/" + id, "GET", "POST", http.StatusUnauthorized, "GET, HEAD, OPTIONS"},
		}
		var all []rt
		for _, c := range cutter {
			for _, mount := range []string{"/api/list_cutter/", "/"} {
				c2 := c
				c2.path = mount + c.path
				all = append(all, c2)
			}
		}
		all = append(all,
			rt{"/api/list_cutter", "GET", "POST", http.StatusOK, "GET, HEAD, OPTIONS"},
			rt{"/api/accounts/register", "POST", "GET", http.StatusBadRequest, "POST, OPTIONS"},
			rt{"/api/accounts/login", "POST", "GET", http.StatusBadRequest, "POST, OPTIONS"},
			rt{"/api/accounts/token/refresh", "POST", "GET", http.StatusBadRequest, "POST, OPTIONS"},
			rt{"/api/accounts/user", "GET", "POST", http.StatusUnauthorized, "GET, HEAD, OPTIONS"},
		)
		for _, c := range all {
			for _, p := range []string{c.path, c.path + "/"} {
				// do fails the test on any redirect.
				r := e.do(t, request{method: c.method, path: p})
				if r.status != c.status {
					t.Errorf("%s %s: %d, want %d: %s", c.method, p, r.status, c.status, r.body)
				}
				r = e.do(t, request{method: c.wrong, path: p})
				if r.status != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d, want 405", c.wrong, p, r.status)
					continue
				}
				if got, want := strings.TrimSpace(string(r.body)), `{"detail":"Method \"`+c.wrong+`\" not allowed."}`; got != want {
					t.Errorf("%s %s: body %s, want %s", c.wrong, p, got, want)
				}
				if got := r.header.Get("Allow"); got != c.allow {
					t.Errorf("%s %s: Allow %q, want %q", c.wrong, p, got, c.allow)
				}
			}
		}
		// The root page answers only at "/" itself: nothing else is swallowed.
		e.do(t, request{method: "GET", path: "/"}).want(t, http.StatusOK)
		if r := e.do(t, request{method: "GET", path: "/no/such/route/"}); r.status != http.StatusNotFound {
			t.Errorf("unknown route answered %d", r.status)
		}
		// Unknown paths under the shim's prefixes are JSON 404s, never redirects.
		for _, p := range []string{
			"/api/list_cutter/nope/", "/api/list_cutter/nope", "/api/list_cutter/csv_cutter/extra/",
			"/api/list_cutter/download/a/b/", "/api/accounts/", "/api/accounts/token/",
		} {
			for _, m := range []string{"GET", "POST"} {
				r := e.do(t, request{method: m, path: p})
				if r.status != http.StatusNotFound || strings.TrimSpace(string(r.body)) != `{"detail":"Not found."}` {
					t.Errorf("%s %s: %d %s", m, p, r.status, r.body)
				}
			}
		}
		golden(t, "405_get_on_post", e.do(t, request{method: "GET", path: "/api/list_cutter/csv_cutter/"}))
		golden(t, "405_delete_on_get", e.do(t, request{method: "DELETE", path: "/api/accounts/user/"}))
	})
}
