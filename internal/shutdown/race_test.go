//go:build race

package shutdown

// raceBuild: the race detector slows the server several times over,
// which widens the window in which a listener that cannot refuse new
// connections loses one (see the package comment).
const raceBuild = true
