package importer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/cutline/cutline/internal/database"
)

// Django reads the original Django deployment: its database (auth_user,
// list_cutter_savedfile), its media folder and, optionally, a CSV export
// of the Neo4j CUT_TO relationships.
type Django struct {
	db         *sql.DB
	dsn        string
	media      *os.Root
	mediaAbs   string
	edgesPath  string
	usersTable string
	filesTable string
}

// DjangoOptions locate a Django deployment's data.
type DjangoOptions struct {
	// DatabaseURL is postgres://... (the usual deployment) or the path of a
	// SQLite file (Django's default db.sqlite3). It is opened read-only.
	DatabaseURL string
	// MediaRoot is the folder file_path is relative to (MEDIA_ROOT).
	MediaRoot string
	// Neo4jEdges, when set, is a CSV of CUT_TO relationships.
	Neo4jEdges string
}

// OpenDjango connects to a Django deployment's database and media folder.
func OpenDjango(ctx context.Context, o DjangoOptions) (*Django, error) {
	if o.DatabaseURL == "" {
		return nil, errors.New("django: --db is required")
	}
	if o.MediaRoot == "" {
		return nil, errors.New("django: --media is required")
	}
	abs, err := filepath.Abs(o.MediaRoot)
	if err != nil {
		return nil, fmt.Errorf("django media folder: %w", err)
	}
	// os.Root confines every open to the media folder, symlinks included:
	// a file_path in the old database cannot make the import read, say,
	// /etc/passwd into someone's account.
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("django media folder: %w", err)
	}
	if o.Neo4jEdges != "" {
		if _, err := os.Stat(o.Neo4jEdges); err != nil {
			root.Close()
			return nil, fmt.Errorf("neo4j edges: %w", err)
		}
	}
	// Read-only, so that a bug here cannot change the system being moved
	// away from.
	db, err := database.OpenReadOnly(ctx, o.DatabaseURL, "cutline-import")
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("source database: %w", err)
	}
	return &Django{db: db, dsn: o.DatabaseURL, media: root, mediaAbs: abs, edgesPath: o.Neo4jEdges,
		usersTable: "auth_user", filesTable: "list_cutter_savedfile"}, nil
}

// Describe names the source without the database password.
func (d *Django) Describe() string {
	s := "django database " + database.Redact(d.dsn) + ", media " + d.mediaAbs
	if d.edgesPath != "" {
		s += ", neo4j edges " + d.edgesPath
	}
	return s
}

// Users reads auth_user.
func (d *Django) Users(ctx context.Context) ([]User, error) {
	q, err := selectFrom(ctx, d.db, d.usersTable, []column{
		{names: []string{"id"}, required: true, text: true},
		{names: []string{"username"}, required: true},
		{names: []string{"email"}},
		{names: []string{"password"}, required: true},
		{names: []string{"date_joined"}},
		{names: []string{"last_login"}},
		{names: []string{"is_active"}},
	})
	if err != nil {
		return nil, err
	}
	var out []User
	err = scanAll(ctx, d.db, q+" ORDER BY 1", func(v []any) error {
		u := User{OldID: asString(v[0]), Username: asString(v[1]), Email: asString(v[2]),
			PasswordHash: asString(v[3]), JoinedAt: asTime(v[4]), Active: asBool(v[6], true)}
		if t := asTime(v[5]); !t.IsZero() {
			u.LastLoginAt = &t
		}
		out = append(out, u)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", d.usersTable, err)
	}
	return out, nil
}

// Files reads list_cutter_savedfile.
func (d *Django) Files(ctx context.Context) ([]File, error) {
	return readSavedFiles(ctx, d.db, d.filesTable)
}

// readSavedFiles reads the saved-files table both backends share the shape of.
func readSavedFiles(ctx context.Context, db *sql.DB, table string) ([]File, error) {
	q, err := selectFrom(ctx, db, table, []column{
		{names: []string{"user_id", "owner_id"}, required: true, text: true},
		{names: []string{"file_id"}, required: true, text: true},
		{names: []string{"file_name", "name"}, required: true},
		{names: []string{"file_path", "path"}, required: true},
		{names: []string{"uploaded_at", "created_at"}},
		{names: []string{"system_tags"}, text: true},
		{names: []string{"user_tags"}, text: true},
		{names: []string{"metadata"}, text: true},
	})
	if err != nil {
		return nil, err
	}
	var out []File
	err = scanAll(ctx, db, q, func(v []any) error {
		out = append(out, File{
			OwnerOldID: asString(v[0]), FileID: strings.TrimSpace(asString(v[1])),
			Name: asString(v[2]), Path: asString(v[3]), UploadedAt: asTime(v[4]),
			SystemTags: asTags(v[5]), UserTags: asTags(v[6]), Metadata: asNullString(v[7]),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	return out, nil
}

// Edges reads the Neo4j export, when one was given.
func (d *Django) Edges(ctx context.Context) ([]Edge, error) {
	if d.edgesPath == "" {
		return nil, nil
	}
	f, err := os.Open(d.edgesPath)
	if err != nil {
		return nil, fmt.Errorf("neo4j edges: %w", err)
	}
	defer f.Close()
	edges, err := ReadEdgesCSV(f, filepath.Base(d.edgesPath))
	if err != nil {
		return nil, fmt.Errorf("neo4j edges %s: %w", d.edgesPath, err)
	}
	return edges, nil
}

// Open finds a file's bytes under the media folder. file_path may be
// relative to MEDIA_ROOT, or absolute: inside the media folder as given,
// or (the deployment moved) the path's tail below the media folder, tried
// from the longest tail to the file name alone. A path that is nowhere
// there is a permanent failure; anything else (permissions, I/O) is not,
// so fixing the folder and running again imports the file.
func (d *Django) Open(ctx context.Context, f File) (io.ReadCloser, error) {
	p := strings.TrimSpace(strings.ReplaceAll(f.Path, `\`, "/"))
	if p == "" {
		return nil, Permanent(errors.New("the row has no file_path"))
	}
	for _, c := range d.candidates(p) {
		file, err := d.media.Open(c)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || isEscape(err) {
				continue
			}
			return nil, err
		}
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, err
		}
		if !st.Mode().IsRegular() {
			file.Close()
			continue
		}
		return file, nil
	}
	return nil, Permanent(fmt.Errorf("%s: not found under the media folder %s", f.Path, d.mediaAbs))
}

// candidates lists the media-relative paths to try for p, best first.
func (d *Django) candidates(p string) []string {
	var out []string
	if !path.IsAbs(p) && !filepath.IsAbs(p) {
		out = append(out, path.Clean(p))
	} else if rel, err := filepath.Rel(d.mediaAbs, filepath.FromSlash(p)); err == nil && !strings.HasPrefix(rel, "..") {
		out = append(out, filepath.ToSlash(rel))
	}
	if path.IsAbs(p) || filepath.IsAbs(p) {
		parts := strings.Split(strings.TrimLeft(path.Clean(p), "/"), "/")
		for i := range parts {
			out = append(out, path.Join(parts[i:]...))
		}
	}
	return out
}

// isEscape recognises os.Root refusing a path that leaves the folder.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}

// Close releases the database and the media folder.
func (d *Django) Close() error {
	d.media.Close()
	return d.db.Close()
}
