// Package playground serves GraphiQL from the binary itself: the page, its
// start-up script and the vendored GraphiQL, React and ReactDOM builds
// (third_party, written by scripts/vendor-playground.sh from the published
// npm packages at the versions and integrity hashes in third_party/PINS).
// Nothing the page loads comes from anywhere but this server, and its
// Content-Security-Policy tells the browser so.
package playground

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

// Path is where the page is served; its assets live below it.
const Path = "/playground"

const (
	assetsPath = Path + "/assets"
	staticPath = Path + "/static"
)

// CSP allows the page to load scripts, styles and fonts from this server
// only and to talk to it alone (fetch and the subscription websocket).
// GraphiQL sets inline styles and ships its fonts and icons as data: URLs.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed static third_party
var embedded embed.FS

// Handler serves the page at Path and its assets below it. endpoint is the
// GraphQL path the page talks to, on the same host.
func Handler(title, endpoint string) (http.Handler, error) {
	versions, err := pinnedVersions()
	if err != nil {
		return nil, err
	}
	page, err := render(title, endpoint, versions)
	if err != nil {
		return nil, err
	}
	vendored, err := fs.Sub(embedded, "third_party")
	if err != nil {
		return nil, err
	}
	static, err := fs.Sub(embedded, "static")
	if err != nil {
		return nil, err
	}
	assets := http.StripPrefix(assetsPath, http.FileServerFS(vendored))
	own := http.StripPrefix(staticPath, http.FileServerFS(static))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		p := r.URL.Path
		switch {
		case p == Path:
			h.Set("Content-Type", "text/html; charset=utf-8")
			h.Set("Cache-Control", "no-cache")
			w.Write(page)
		case strings.HasPrefix(p, assetsPath+"/") && strings.Contains(p, "@"):
			// Versioned paths: a new version is a new URL.
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
			assets.ServeHTTP(w, r)
		case strings.HasPrefix(p, staticPath+"/") && p != staticPath+"/index.html":
			h.Set("Cache-Control", "no-cache")
			own.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}), nil
}

// pinnedVersions reads the package versions from third_party/PINS, so the
// page always names the files the vendoring script wrote.
func pinnedVersions() (map[string]string, error) {
	b, err := embedded.ReadFile("third_party/PINS")
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out[f[0]] = f[1]
	}
	for _, name := range []string{"graphiql", "react", "react-dom"} {
		if out[name] == "" {
			return nil, fmt.Errorf("playground: third_party/PINS names no %s", name)
		}
	}
	return out, nil
}

func render(title, endpoint string, versions map[string]string) ([]byte, error) {
	t, err := template.ParseFS(embedded, "static/index.html")
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]string{
		"Title": title, "Endpoint": endpoint, "Assets": assetsPath, "Static": staticPath,
		"GraphiQL": versions["graphiql"], "React": versions["react"], "ReactDOM": versions["react-dom"],
	})
	if err != nil {
		return nil, fmt.Errorf("playground: %w", err)
	}
	return buf.Bytes(), nil
}
