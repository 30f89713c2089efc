package rest

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
)

// OpenAPIPath is where the OpenAPI 3 description of /api/v1 is served.
const OpenAPIPath = "/api/v1/openapi.json"

// openAPIDoc describes every /api/v1 route, its parameters, bodies and
// answers. A test validates the server's real requests and responses
// against it, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDoc []byte

var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// OpenAPI serves the document.
func OpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", openAPIETag)
	if r.Header.Get("If-None-Match") == openAPIETag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(openAPIDoc)
}
