//go:build !race

package shutdown

const raceBuild = false
