package clientaddr

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestResolve(t *testing.T) {
	trusted, err := ParsePrefixes([]string{"127.0.0.0/8", "10.1.2.3", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	res := New(trusted, "")
	cases := []struct{ remote, xff, want string }{
		{"[::ffff:127.0.0.1]:80", "203.0.113.9", "203.0.113.9"}, // a mapped IPv4 peer is the IPv4 one
		{"10.1.2.3:80", "203.0.113.9", "203.0.113.9"},           // a single address is a /32
		{"10.1.2.4:80", "203.0.113.9", "10.1.2.4"},
		{"[fd00::1]:80", "2001:db8::5, fd00::9", "2001:db8::5"},
		{"[fe80::1%eth0]:80", "203.0.113.9", "fe80::1%eth0"}, // untrusted: the peer as it is
		{"not-an-address", "203.0.113.9", "not-an-address"},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		r.Header.Set("X-Forwarded-For", tc.xff)
		if got := res.Resolve(r); got != tc.want {
			t.Errorf("%s with %q: %q, want %q", tc.remote, tc.xff, got, tc.want)
		}
	}
	if got := (&Resolver{}).Resolve(httptest.NewRequest("GET", "/", nil)); got != "192.0.2.1" {
		t.Errorf("zero Resolver: %q, want the peer", got)
	}
}

func TestParsePrefixes(t *testing.T) {
	if _, err := ParsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Error("10.0.0.0/33 accepted")
	}
	p, err := ParsePrefixes([]string{"2001:db8::1"})
	if err != nil || p[0] != netip.MustParsePrefix("2001:db8::1/128") {
		t.Errorf("%v %v", p, err)
	}
}
