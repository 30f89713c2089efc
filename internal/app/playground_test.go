package app_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// refsOf finds what a page, a stylesheet or a script makes a browser
// load: src and href attributes, CSS url() and @import, source maps.
func refsOf(path, body string) []string {
	var res []*regexp.Regexp
	switch {
	case strings.HasSuffix(path, ".css"):
		res = []*regexp.Regexp{
			regexp.MustCompile(`(?i)url\(\s*["']?([^"')]+)["']?\s*\)`),
			regexp.MustCompile(`(?i)@import\s+["']([^"']+)["']`),
		}
	case strings.HasSuffix(path, ".js"):
		res = []*regexp.Regexp{regexp.MustCompile(`(?m)^//# sourceMappingURL=(\S+)`)}
	default:
		res = []*regexp.Regexp{regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*["']([^"']+)["']`)}
	}
	var out []string
	for _, re := range res {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			out = append(out, strings.TrimSpace(m[1]))
		}
	}
	return out
}

// TestPlaygroundIsServedByTheServerAlone loads /playground the way a
// browser would, following every reference of the page and of what it
// loads, and fails on anything that would leave the server. The bytes
// served for the vendored packages are the pinned ones.
func TestPlaygroundIsServedByTheServerAlone(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	pinned := vendoredSums(t)

	get := func(u *url.URL) (string, http.Header) {
		t.Helper()
		resp, err := http.Get(u.String())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u.Path, resp.StatusCode, b)
		}
		return string(b), resp.Header
	}
	base, _ := url.Parse(s.URL + "/playground")
	page, h := get(base)
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("page Content-Type %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindString(page); m != "" {
		t.Errorf("the page names an outside address: %s", m)
	}

	seen := map[string]bool{}
	var scripts, styles int
	var follow func(from *url.URL, body string)
	follow = func(from *url.URL, body string) {
		for _, ref := range refsOf(from.Path, body) {
			if strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#") {
				continue
			}
			u, err := from.Parse(ref)
			if err != nil {
				t.Errorf("%s references %q: %v", from.Path, ref, err)
				continue
			}
			if u.Host != base.Host || u.Scheme != base.Scheme {
				t.Errorf("%s loads %s from outside the server", from.Path, ref)
				continue
			}
			if seen[u.Path] {
				continue
			}
			seen[u.Path] = true
			body, h := get(u)
			ct := h.Get("Content-Type")
			switch {
			case strings.HasSuffix(u.Path, ".js"):
				scripts++
				if !strings.HasPrefix(ct, "text/javascript") {
					t.Errorf("%s: Content-Type %q (nosniff needs a script type)", u.Path, ct)
				}
			case strings.HasSuffix(u.Path, ".css"):
				styles++
				if !strings.HasPrefix(ct, "text/css") {
					t.Errorf("%s: Content-Type %q", u.Path, ct)
				}
			}
			if rel, ok := strings.CutPrefix(u.Path, "/playground/assets/"); ok {
				sum := sha256.Sum256([]byte(body))
				if want := pinned[rel]; want != hex.EncodeToString(sum[:]) {
					t.Errorf("%s: served bytes are not the pinned ones (sha256 %x, SHA256SUMS %q)", u.Path, sum, want)
				}
			}
			if strings.HasSuffix(u.Path, ".js") || strings.HasSuffix(u.Path, ".css") {
				follow(u, body)
			}
		}
	}
	follow(base, page)
	// React, ReactDOM, GraphiQL and the start-up script; GraphiQL's
	// stylesheet and the page's own.
	if scripts < 4 || styles < 2 {
		t.Errorf("the page loads %d scripts and %d stylesheets, want at least 4 and 2: %v", scripts, styles, seen)
	}
	if !seen["/playground/assets/graphiql@4.1.2/dist/index.umd.js.map"] {
		t.Errorf("GraphiQL's source map was not followed: %v", seen)
	}
}

// vendoredSums reads third_party/SHA256SUMS: vendored path -> hex sha256.
func vendoredSums(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "playground", "third_party", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		out[f[1]] = f[0]
	}
	return out
}

// TestPlaygroundIntrospectionUnderDefaultLimits sends the introspection
// queries GraphiQL (testdata/introspection_graphiql.graphql, graphql-js's
// getIntrospectionQuery as GraphiQL calls it) and other tools
// (introspection_full.graphql, every option on) send, under the default
// limits: the Docs pane needs them. User data stays held to the depth
// limit, and introspection that lists a type's members inside another's
// (an answer that grows with the schema's size at each level) is refused.
func TestPlaygroundIntrospectionUnderDefaultLimits(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	for _, name := range []string{"introspection_graphiql.graphql", "introspection_full.graphql"} {
		q, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		r := s.gql(t, "", string(q), nil)
		if len(r.Errors) > 0 {
			t.Fatalf("%s: %+v", name, r.Errors)
		}
		if !strings.Contains(string(r.Data), `"name":"File"`) {
			t.Fatalf("%s: no File type in %.200s", name, r.Data)
		}
	}

	for _, tc := range []struct{ name, query string }{
		{"user data", `{ file(id: "x") { parents { parents { parents { parents { parents { parents {
			parents { parents { parents { parents { parents { parents { id } } } } } } } } } } } } } }`},
		{"types inside types", `{ __schema { types { fields { type { fields { name } } } } } }`},
		{"through a fragment", `query { __type(name: "File") { ...T } } fragment T on __Type { possibleTypes { interfaces { name } } }`},
	} {
		if r := s.gql(t, "", tc.query, nil); r.code() != "QUERY_TOO_COMPLEX" {
			t.Errorf("%s: code %q, want QUERY_TOO_COMPLEX (%+v)", tc.name, r.code(), r.Errors)
		}
	}
}
