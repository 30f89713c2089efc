package importer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
)

const usage = `usage:
  cutline import django  --db URL --media DIR [--neo4j-edges FILE] [--dry-run]
  cutline import workers --d1 FILE --bucket URL [--dry-run]

Imports the old backend's users, files and lineage into the database and
bucket this server is configured with (DATABASE_URL, BLOB_URL, DATA_DIR,
MAX_FILE_SIZE... from the environment, as for the server). Running it again
skips what is already there and continues an interrupted run.
`

// Command runs "cutline import SOURCE FLAGS..." (args start at SOURCE).
// The target's settings come from getenv only, because --db here names
// the old database. Progress goes to stderr, the summary to stdout. The
// error is non-nil when the run was interrupted or some item failed, so
// scripts can tell that a further run is needed.
func Command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return &config.UsageError{Err: errors.New("import: name a source: django or workers")}
		}
		return nil
	}
	kind := args[0]
	fs := flag.NewFlagSet("import "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dry := fs.Bool("dry-run", false, "report what would happen and write nothing")
	var dj DjangoOptions
	var wk WorkersOptions
	switch kind {
	case "django":
		fs.StringVar(&dj.DatabaseURL, "db", "", "the Django database: postgres://... or a SQLite file")
		fs.StringVar(&dj.MediaRoot, "media", "", "the Django MEDIA_ROOT folder")
		fs.StringVar(&dj.Neo4jEdges, "neo4j-edges", "", "CSV export of the Neo4j CUT_TO relationships (optional)")
	case "workers":
		fs.StringVar(&wk.D1, "d1", "", "the D1 export: SQLite file or `wrangler d1 export` SQL")
		fs.StringVar(&wk.BucketURL, "bucket", "", "the R2 bucket (or a copy) as a bucket URL")
	default:
		fmt.Fprint(stderr, usage)
		return &config.UsageError{Err: fmt.Errorf("import: unknown source %q (want django or workers)", kind)}
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &config.UsageError{Err: fmt.Errorf("import: %w", err)}
	}
	if fs.NArg() > 0 {
		return &config.UsageError{Err: fmt.Errorf("import: unexpected argument %q", fs.Arg(0))}
	}

	cfg, err := config.Load(nil, getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := app.NewLogger(cfg)

	var src Source
	switch kind {
	case "django":
		src, err = OpenDjango(ctx, dj)
	case "workers":
		src, err = OpenWorkers(ctx, wk)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer src.Close()

	var target *app.App
	var remark string
	if *dry {
		var cleanup func()
		target, remark, cleanup, err = openDryTarget(ctx, cfg, log)
		if err == nil {
			defer cleanup()
		}
	} else {
		target, err = app.New(ctx, cfg, log)
	}
	if err != nil {
		return fmt.Errorf("import: open the target: %w", err)
	}
	defer target.Close()
	log.Info("importing", "source", src.Describe(), "database", database.Redact(cfg.DatabaseURL),
		"blobs", blobstore.Redact(cfg.BlobURL), "dry_run", *dry)

	im := New(target.Auth, target.Files, target.Lineage, Options{DryRun: *dry, Progress: NewProgress(stderr)})
	sum, runErr := im.Run(ctx, src)
	if sum != nil {
		sum.Remark = remark
		fmt.Fprintln(stdout)
		sum.Print(stdout)
	}
	switch {
	case runErr != nil && sum != nil && sum.Interrupted:
		return fmt.Errorf("import interrupted (%w): run the same command again to continue", runErr)
	case runErr != nil:
		return fmt.Errorf("import: %w", runErr)
	case sum.Failed() > 0:
		return fmt.Errorf("import: %d items failed (see above); fix the cause and run again to retry them", sum.Failed())
	}
	return nil
}

// openDryTarget opens the configured target for reading only: the
// database without migrating, and no bucket at all (an in-memory one
// stands in, so even a bug cannot write to the real one). A target that
// does not exist yet or has no schema is planned against an empty,
// migrated SQLite database in a temporary folder, which cleanup removes.
func openDryTarget(ctx context.Context, cfg config.Config, log *slog.Logger) (a *app.App, remark string, cleanup func(), err error) {
	if cfg.JWTSecret == "" {
		// Only needed to build the auth service; never stored or used.
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		cfg.JWTSecret = hex.EncodeToString(b)
	}
	// A plan delivers nothing to a lineage receiver (and queues nothing).
	cfg.OpenLineageURL = ""
	cleanup = func() {}
	db, err := database.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil && !errors.Is(err, database.ErrNoSchema) {
		return nil, "", nil, err
	}
	if db == nil {
		dir, err := os.MkdirTemp("", "cutline-import-plan-")
		if err != nil {
			return nil, "", nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		db, err = database.Open(ctx, "sqlite://"+filepath.Join(dir, "plan.db"))
		if err == nil {
			if _, err = database.Migrate(ctx, db); err != nil {
				db.Close()
			}
		}
		if err != nil {
			cleanup()
			return nil, "", nil, err
		}
		remark = "The target database does not exist or has no schema yet: planned against an empty one."
	}
	bucket, err := blobstore.Open(ctx, "mem://")
	if err == nil {
		a, err = app.Build(cfg, log, db, bucket)
		if err != nil {
			bucket.Close()
		}
	}
	if err != nil {
		db.Close()
		cleanup()
		return nil, "", nil, err
	}
	return a, remark, cleanup, nil
}
