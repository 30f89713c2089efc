package auth

import "testing"

// TestClientKey: an IPv6 client is counted per /64, an IPv4 one (mapped or
// not) per address, in canonical form; what is no address is its own key.
// A canonical IPv4 address, what a peer always is, costs no allocation.
func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"unknown", "unknown"},
	} {
		if got := clientKey(tc.ip); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = clientKey("192.0.2.7") }); n != 0 {
		t.Errorf("clientKey of a canonical address allocates %v times", n)
	}
}
