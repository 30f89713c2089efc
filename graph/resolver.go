// Package graph is the GraphQL adapter: gqlgen's generated executor and
// resolvers that translate between GraphQL and the feature packages. It
// owns no business rules.
package graph

//go:generate go run ./generate

import (
	"log/slog"
	"time"

	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/events"
	"github.com/cutline/cutline/internal/files"
	"github.com/cutline/cutline/internal/lineage"
)

// Resolver holds the feature services the resolvers call.
type Resolver struct {
	Auth     *auth.Service
	Files    *files.Service
	Lineage  *lineage.Service
	Download *blobstore.Signer
	// DownloadTTL is how long a downloadUrl stays valid.
	DownloadTTL time.Duration
	// PublicURL prefixes download URLs; empty gives a root-relative URL.
	PublicURL string
	Log       *slog.Logger
	// Events delivers file changes to subscriptions.
	Events *events.Broker
}
