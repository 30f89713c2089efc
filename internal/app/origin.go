package app

import (
	"net/http"
	"net/url"
	"strings"
)

// origins decides which browser pages may call the API: those of the
// configured origins (CORS_ORIGINS), compared by scheme, host and port, and
// pages of the server's own origin. Nothing else: with no origin configured
// the API answers no cross-origin request, so browsers keep pages of other
// sites out (the same-origin policy).
type origins struct {
	allowed map[string]bool
}

func newOrigins(list []string) origins {
	o := origins{allowed: make(map[string]bool, len(list))}
	for _, s := range list {
		if n, ok := normalOrigin(s); ok {
			o.allowed[n] = true
		}
	}
	return o
}

// websocket reports whether a websocket upgrade may go ahead. A request
// without an Origin header does not come from a browser page; one whose
// Origin names the host it was sent to is same-origin (the scheme is not
// compared there: behind a TLS-terminating proxy the server cannot know
// it); any other must be configured, scheme included, so that
// http://app.example does not pass for https://app.example.
func (o origins) websocket(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	n, ok := normalOrigin(origin)
	if !ok {
		return false
	}
	if o.allowed[n] {
		return true
	}
	_, host, _ := strings.Cut(n, "://")
	return host == normalHost("", r.Host)
}

// normalOrigin returns scheme://host[:port] in lower case without the
// scheme's default port, or false for anything that is not an origin.
func normalOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" || u.Scheme == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	return scheme + "://" + normalHost(scheme, u.Host), true
}

// normalHost lower-cases host and drops the port a scheme implies (for
// an empty scheme, either default port).
func normalHost(scheme, host string) string {
	host = strings.ToLower(host)
	for _, d := range []struct{ scheme, port string }{{"http", ":80"}, {"https", ":443"}, {"ws", ":80"}, {"wss", ":443"}} {
		if (scheme == "" || scheme == d.scheme) && strings.HasSuffix(host, d.port) {
			return strings.TrimSuffix(host, d.port)
		}
	}
	return host
}
