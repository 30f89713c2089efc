// Command ceiling is the reference for scripts/load: the cheapest useful
// net/http server, answering every request with the same 60 bytes of JSON
// after reading the request body. Whatever a real handler does costs on top
// of this on the same machine.
//
//	go run ./scripts/load/ceiling -addr 127.0.0.1:18401
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// body is exactly 60 bytes, about the size of `{ me { id username } }`'s answer.
const body = `{"data":{"me":{"id":"1","username":"ceiling-reference-00"}}}`

func main() {
	addr := flag.String("addr", "127.0.0.1:18401", "listen address (loopback only)")
	flag.Parse()
	if len(body) != 60 {
		panic(fmt.Sprintf("body is %d bytes, want 60", len(body)))
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !(host == "127.0.0.1" || host == "localhost" || strings.HasPrefix(host, "[::1")) && host != "::1" {
		fmt.Fprintln(os.Stderr, "ceiling: listen on a loopback address only")
		os.Exit(2)
	}
	payload := []byte(body)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
}
