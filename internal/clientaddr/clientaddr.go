// Package clientaddr decides which address a request comes from. Every
// per-address limit, the access log and the websocket logs read the
// address it puts in the request context, so they cannot disagree.
//
// The direct peer is the client unless it is a trusted proxy
// (TRUSTED_PROXIES). Then the proxy's forwarding header is read from the
// right, the end each proxy appends to, past every trusted hop: the first
// address that is not trusted is the client. Whatever stands to the left
// of it was written by the client and is ignored.
package clientaddr

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The forwarding headers a trusted proxy may set.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
)

// Resolver computes client addresses. The zero value trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
	header  string
}

// New trusts the proxies in trusted to report their peers in header
// (HeaderXForwardedFor or HeaderForwarded; "" is X-Forwarded-For). Only
// the one header is read: a proxy that sets one passes the other through
// as the client wrote it.
func New(trusted []netip.Prefix, header string) *Resolver {
	if header == "" {
		header = HeaderXForwardedFor
	}
	masked := make([]netip.Prefix, len(trusted))
	for i, p := range trusted {
		masked[i] = p.Masked()
	}
	return &Resolver{trusted: masked, header: http.CanonicalHeaderKey(header)}
}

type key struct{}

// Middleware puts the request's client address in its context, where Of
// finds it.
func (res *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(With(r.Context(), res.Resolve(r))))
	})
}

// With returns ctx carrying addr as the client address, where Of and From
// find it: Middleware's work, for a handler that copies the request itself.
func With(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, key{}, addr)
}

// Of is the client address of r: the one Middleware decided, or the
// direct peer's when no Middleware ran.
func Of(r *http.Request) string {
	if a, ok := r.Context().Value(key{}).(string); ok {
		return a
	}
	return peer(r)
}

// From is the client address Middleware put in ctx, or "".
func From(ctx context.Context) string {
	a, _ := ctx.Value(key{}).(string)
	return a
}

// peer is the host part of RemoteAddr.
func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Resolve computes r's client address.
func (res *Resolver) Resolve(r *http.Request) string {
	direct := peer(r)
	if len(res.trusted) == 0 {
		return direct
	}
	last, err := netip.ParseAddr(direct)
	if err != nil || !res.trust(last) {
		return direct
	}
	hops := res.hops(r.Header)
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			// A trusted proxy passed on something that is no address
			// ("unknown", an obfuscated name, garbage): the last address
			// known for certain is the proxy that did so.
			break
		}
		last = a
		if !res.trust(a) {
			break
		}
	}
	return last.String()
}

func (res *Resolver) trust(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// hops lists the addresses of the forwarding header, oldest first; several
// header lines read as one list, in their order.
func (res *Resolver) hops(h http.Header) []string {
	var out []string
	for _, line := range h.Values(res.header) {
		for _, el := range strings.Split(line, ",") {
			el = strings.TrimSpace(el)
			if res.header == HeaderForwarded {
				el = forwardedFor(el)
			}
			out = append(out, el)
		}
	}
	return out
}

// forwardedFor is the for= parameter of one Forwarded element
// (RFC 7239: for=192.0.2.60;proto=http, for="[2001:db8::17]:4711"), or ""
// when it has none.
func forwardedFor(el string) string {
	for _, pair := range strings.Split(el, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if ok && strings.EqualFold(strings.TrimSpace(name), "for") {
			return strings.Trim(strings.TrimSpace(value), `"`)
		}
	}
	return ""
}

// parseHop reads one hop: an address, possibly with a port
// (192.0.2.1:80, [2001:db8::1]:443) or in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// ParsePrefixes reads a TRUSTED_PROXIES list: CIDRs (10.0.0.0/8,
// fd00::/8) or single addresses.
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, &BadPrefixError{Value: s}
		}
		out = append(out, netip.PrefixFrom(a.WithZone(""), a.BitLen()))
	}
	return out, nil
}

// BadPrefixError is an entry of a proxy list that is neither a CIDR nor an
// address.
type BadPrefixError struct{ Value string }

func (e *BadPrefixError) Error() string {
	return "\"" + e.Value + "\" is not a CIDR (10.0.0.0/8, fd00::/8) or an address"
}
