package importer_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite"

	"github.com/cutline/cutline/internal/app"
	"github.com/cutline/cutline/internal/auth"
	"github.com/cutline/cutline/internal/blobstore"
	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database"
)

// The scenario both sources carry: the same accounts, files and lineage,
// stored the way each old backend stored them.

type fxUser struct {
	id                        int64
	username, email, password string
	joined                    time.Time
	active                    bool
}

type fxFile struct {
	owner      int64
	id, name   string
	path       string // where the source keeps the bytes
	uploaded   time.Time
	sys, user  []string
	meta       string // JSON text, "" for NULL
	content    []byte // nil: the bytes are missing
	storedPath string // where the fixture writes the bytes, when not path
}

// Ids of the scenario's files.
const (
	idSales     = "0b7f4a52-8c39-4a3e-9d0e-0a0000000001" // alice, uploaded
	idNorth     = "0b7f4a52-8c39-4a3e-9d0e-0a0000000002" // alice, generated from idSales
	idLost      = "0b7f4a52-8c39-4a3e-9d0e-0a0000000003" // alice, bytes missing
	idLostCut   = "0b7f4a52-8c39-4a3e-9d0e-0a0000000004" // alice, generated from idLost
	idPhoto     = "0b7f4a52-8c39-4a3e-9d0e-0a0000000005" // bob, not CSV
	idBob       = "0b7f4a52-8c39-4a3e-9d0e-0a0000000006" // bob, absolute path from the old server
	idCarol     = "0b7f4a52-8c39-4a3e-9d0e-0a0000000007" // carol, sales.csv
	idCarol2    = "0b7f4a52-8c39-4a3e-9d0e-0a0000000008" // carol, sales.csv again
	idDave      = "0b7f4a52-8c39-4a3e-9d0e-0a0000000009" // dave
	idNowhere   = "0b7f4a52-8c39-4a3e-9d0e-0a00000000ff" // in no table
	salesCSV    = "region,amount\nnorth,10\nsouth,20\n"
	northCSV    = "region,amount\nnorth,10\n"
	lostCutCSV  = "a;b\n1;2\n"
	bobCSV      = "name,age\nbob,41\n"
	carolCSV    = "x\n1\n2\n3\n"
	carol2CSV   = "x\n4\n"
	daveCSV     = "k,v\r\nq,\"multi\nline\"\r\n"
	alicePass   = "alice-old-password"
	bobPass     = "bob-old-password"
	carolPass   = "carol-old-password"
	davePass    = "dave-old-password"
	zedPassword = "zed is already here"
)

// photoBytes is not CSV: the reader must reject it.
var photoBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func scenarioUsers(djangoInactive bool) []fxUser {
	return []fxUser{
		{1, "alice", "alice@example.com", alicePass, at("2022-03-04T05:06:07.123456Z"), true},
		{2, "bob", "", bobPass, at("2022-04-01T00:00:00Z"), true},
		{3, "carol", "carol@example.com", carolPass, at("2022-05-01T12:30:00Z"), true},
		{4, "dave", "dave@example.com", davePass, at("2022-06-01T08:00:00Z"), !djangoInactive},
	}
}

func scenarioFiles(bobPath string) []fxFile {
	return []fxFile{
		{owner: 1, id: idSales, name: "sales.csv", path: "uploads/sales.csv", uploaded: at("2023-01-02T10:00:00.123456Z"),
			sys: []string{"uploaded"}, user: []string{"q3", "finance"}, content: []byte(salesCSV)},
		{owner: 1, id: idNorth, name: "sales_north.csv", path: "generated/sales_north.csv", uploaded: at("2023-01-03T10:00:00Z"),
			sys: []string{"generated"}, meta: `{"generated_file_details": {"column_filters": {"region": "= north"}}, "original_file_id": "` + idSales + `"}`,
			content: []byte(northCSV)},
		{owner: 1, id: idLost, name: "lost.csv", path: "uploads/lost.csv", uploaded: at("2023-01-04T10:00:00Z"),
			sys: []string{"uploaded"}, user: []string{"old"}},
		{owner: 1, id: idLostCut, name: "lost_cut.csv", path: "generated/lost_cut.csv", uploaded: at("2023-01-05T10:00:00Z"),
			sys: []string{"generated"}, meta: `{"original_file_id": "` + idLost + `"}`, content: []byte(lostCutCSV)},
		{owner: 2, id: idPhoto, name: "photo.csv", path: "uploads/photo.csv", uploaded: at("2023-02-01T10:00:00Z"),
			sys: []string{"uploaded"}, content: photoBytes},
		{owner: 2, id: idBob, name: "bob.csv", path: bobPath, storedPath: "uploads/bob.csv", uploaded: at("2023-02-02T10:00:00Z"),
			sys: []string{"uploaded"}, content: []byte(bobCSV)},
		{owner: 3, id: idCarol, name: "sales.csv", path: "uploads/carol/sales.csv", uploaded: at("2023-03-01T10:00:00Z"),
			sys: []string{"uploaded"}, content: []byte(carolCSV)},
		{owner: 3, id: idCarol2, name: "sales.csv", path: "generated/carol/sales.csv", uploaded: at("2023-03-02T10:00:00Z"),
			sys: []string{"generated"}, user: []string{"cut"}, content: []byte(carol2CSV)},
		{owner: 4, id: idDave, name: "dave.csv", path: "uploads/dave.csv", uploaded: at("2023-04-01T10:00:00Z"),
			sys: []string{"uploaded"}, content: []byte(daveCSV)},
	}
}

// expected is what an import of the scenario must produce.
type expected struct {
	users, files, tombstones, edges int // imported by a first run
	edgesSkipped                    int // skipped by a first run
	edgeSet                         map[[2]string]bool
	daveCanLogIn                    bool
}

func scenarioExpected(daveActive bool) expected {
	return expected{
		users: 4, files: 7, tombstones: 2, edges: 3, edgesSkipped: 2,
		edgeSet: map[[2]string]bool{
			{idSales, idNorth}:  true, // metadata (and the graph export)
			{idLost, idLostCut}: true, // metadata; the parent is a tombstone
			{idCarol, idCarol2}: true, // only in the graph export
		},
		daveCanLogIn: daveActive,
	}
}

// djangoHash is Django's PBKDF2PasswordHasher.encode.
func djangoHash(t testing.TB, password string) string {
	salt := randomHex(6)
	const iter = 20000
	key, err := pbkdf2.Key(sha256.New, password, []byte(salt), iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(key))
}

// sha256Hex is the Workers port's hash.
func sha256Hex(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func pgArray(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return "{" + strings.Join(q, ",") + "}"
}

// djangoFixture is a Django deployment: its database (PostgreSQL in a
// throw-away schema when pg, else a SQLite file), its media folder and a
// Neo4j edge export.
type djangoFixture struct {
	dsn, media, edges string
}

func newDjangoFixture(t *testing.T, pg bool) djangoFixture {
	t.Helper()
	ctx := context.Background()
	media := t.TempDir()
	bobAbs := "/srv/oldsite/media/uploads/bob.csv" // the old server's MEDIA_ROOT is gone
	var db *database.DB
	var dsn string
	if pg {
		base := os.Getenv("TEST_DATABASE_URL")
		if base == "" {
			t.Skip("TEST_DATABASE_URL is not set: the Django PostgreSQL source needs it")
		}
		admin, err := database.Open(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		schema := "djsrc_" + randomHex(6)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			admin.Close()
		})
		sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(base),
			pgdriver.WithConnParams(map[string]any{"search_path": schema})))
		db = database.New(bun.NewDB(sqldb, pgdialect.New()))
		u, _ := url.Parse(base)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		path := filepath.Join(t.TempDir(), "db.sqlite3")
		var err error
		db, err = database.Open(ctx, "sqlite://"+path)
		if err != nil {
			t.Fatal(err)
		}
		dsn = path
	}
	defer db.Close()

	// Django's own DDL for auth_user; the saved-file table as the old app
	// declared it (tags as text[] and jsonb on PostgreSQL, JSON text on SQLite).
	ddl := []string{`CREATE TABLE auth_user (
		id integer PRIMARY KEY, password varchar(128) NOT NULL, last_login timestamp with time zone NULL,
		is_superuser boolean NOT NULL, username varchar(150) NOT NULL UNIQUE, first_name varchar(150) NOT NULL,
		last_name varchar(150) NOT NULL, email varchar(254) NOT NULL, is_staff boolean NOT NULL,
		is_active boolean NOT NULL, date_joined timestamp with time zone NOT NULL)`}
	if pg {
		ddl = append(ddl, `CREATE TABLE list_cutter_savedfile (
			id bigserial PRIMARY KEY, user_id integer NOT NULL REFERENCES auth_user (id), file_id uuid NOT NULL UNIQUE,
			file_name varchar(255) NOT NULL, file_path varchar(500) NOT NULL, uploaded_at timestamptz NOT NULL,
			system_tags text[] NOT NULL, user_tags jsonb NOT NULL, metadata jsonb NULL)`)
	} else {
		ddl = append(ddl, `CREATE TABLE list_cutter_savedfile (
			id integer PRIMARY KEY AUTOINCREMENT, user_id integer NOT NULL REFERENCES auth_user (id), file_id char(32) NOT NULL UNIQUE,
			file_name varchar(255) NOT NULL, file_path varchar(500) NOT NULL, uploaded_at datetime NOT NULL,
			system_tags text NOT NULL, user_tags text NOT NULL, metadata text NULL)`)
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range scenarioUsers(true) {
		if _, err := db.ExecContext(ctx, `INSERT INTO auth_user (id, password, last_login, is_superuser, username,
			first_name, last_name, email, is_staff, is_active, date_joined) VALUES (?, ?, NULL, false, ?, '', '', ?, false, ?, ?)`,
			u.id, djangoHash(t, u.password), u.username, u.email, u.active, u.joined); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range scenarioFiles(bobAbs) {
		var meta any
		if f.meta != "" {
			meta = f.meta
		}
		if f.id == idLostCut {
			// Saved the way the old view did it: the frontend's JSON text
			// stored as a JSON string.
			b, _ := json.Marshal(f.meta)
			meta = string(b)
		}
		id := f.id
		sys, user := pgArray(f.sys), jsonList(f.user)
		q := `INSERT INTO list_cutter_savedfile (user_id, file_id, file_name, file_path, uploaded_at, system_tags, user_tags, metadata)
			VALUES (?, ?, ?, ?, ?, CAST(? AS text[]), CAST(? AS jsonb), CAST(? AS jsonb))`
		if !pg {
			// Django's UUIDField is char(32) hex without dashes on SQLite.
			id = strings.ReplaceAll(id, "-", "")
			sys = jsonList(f.sys)
			q = `INSERT INTO list_cutter_savedfile (user_id, file_id, file_name, file_path, uploaded_at, system_tags, user_tags, metadata)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
		}
		if _, err := db.ExecContext(ctx, q, f.owner, id, f.name, f.path, f.uploaded, sys, user, meta); err != nil {
			t.Fatal(err)
		}
		writeMedia(t, media, f)
	}
	edges := filepath.Join(t.TempDir(), "cut_to.csv")
	csv := "from,to\n" +
		idSales + "," + idNorth + "\n" + // also in the metadata
		idCarol + "," + idCarol2 + "\n" + // only here
		idSales + "," + idNowhere + "\n" + // an end that is in no table
		idSales + "," + idCarol + "\n" // ends of two users
	if err := os.WriteFile(edges, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	return djangoFixture{dsn: dsn, media: media, edges: edges}
}

func writeMedia(t *testing.T, media string, f fxFile) {
	t.Helper()
	if f.content == nil {
		return
	}
	p := f.path
	if f.storedPath != "" {
		p = f.storedPath
	}
	full := filepath.Join(media, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(full, f.content, 0o600); err != nil {
		t.Fatal(err)
	}
}

// workersFixture is the Workers port: a D1 export (SQLite file) and a
// bucket folder standing in for R2.
type workersFixture struct {
	d1, bucketURL string
}

const workersDDL = `
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT UNIQUE NOT NULL, email TEXT UNIQUE,
	password_hash TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE saved_files (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, file_id TEXT UNIQUE NOT NULL,
	file_name TEXT NOT NULL, file_path TEXT NOT NULL, uploaded_at DATETIME DEFAULT CURRENT_TIMESTAMP,
	system_tags TEXT DEFAULT '[]', user_tags TEXT DEFAULT '[]', metadata TEXT);
CREATE TABLE file_relationships (id INTEGER PRIMARY KEY AUTOINCREMENT, source_file_id TEXT NOT NULL,
	target_file_id TEXT NOT NULL, relationship_type TEXT NOT NULL, created_at DATETIME DEFAULT CURRENT_TIMESTAMP);
`

func newWorkersFixture(t *testing.T) workersFixture {
	t.Helper()
	ctx := context.Background()
	d1 := filepath.Join(t.TempDir(), "d1-export.sqlite")
	db, err := sql.Open("sqlite", "file:"+d1)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, workersDDL); err != nil {
		t.Fatal(err)
	}
	for i, u := range scenarioUsers(false) {
		// The port wrote times three ways over its life: SQLite's
		// CURRENT_TIMESTAMP text, ISO 8601, and Date.now() milliseconds.
		var joined any
		switch i % 3 {
		case 0:
			joined = u.joined.Format(time.RFC3339Nano)
		case 1:
			joined = u.joined.Format("2006-01-02 15:04:05")
		default:
			joined = u.joined.UnixMilli()
		}
		var email any
		if u.email != "" {
			email = u.email
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.id, u.username, email, sha256Hex(u.password), joined); err != nil {
			t.Fatal(err)
		}
	}
	bucketDir := t.TempDir()
	bucketURL := "file://" + filepath.ToSlash(bucketDir)
	b, err := blobstore.Open(ctx, bucketURL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for _, f := range scenarioFiles("/uploads/bob.csv") {
		var meta any
		if f.meta != "" {
			meta = f.meta
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO saved_files (user_id, file_id, file_name, file_path, uploaded_at,
			system_tags, user_tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			f.owner, f.id, f.name, f.path, f.uploaded.Format(time.RFC3339Nano), jsonList(f.sys), jsonList(f.user), meta); err != nil {
			t.Fatal(err)
		}
		if f.content == nil {
			continue
		}
		key := f.path
		if f.storedPath != "" {
			key = f.storedPath
		}
		if err := b.WriteAll(ctx, key, f.content, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range [][3]string{
		{idSales, idNorth, "CUT_TO"},
		{idCarol2, idCarol, "CUT_FROM"}, // child -> parent: flipped
		{idSales, idNowhere, "CUT_TO"},
		{idSales, idNorth, "SIMILAR_TO"}, // not a derivation
	} {
		if _, err := db.ExecContext(ctx, `INSERT INTO file_relationships (source_file_id, target_file_id, relationship_type)
			VALUES (?, ?, ?)`, r[0], r[1], r[2]); err != nil {
			t.Fatal(err)
		}
	}
	return workersFixture{d1: d1, bucketURL: bucketURL}
}

// target is this server over a test database and a mem:// bucket, with
// one account ("zed", id 1) registered before the import.
type target struct {
	app *app.App
	db  *database.DB
	zed int64
}

func newTarget(t *testing.T, db *database.DB) *target {
	t.Helper()
	cfg := config.Default()
	cfg.JWTSecret = "test-secret-0123456789abcdef0123456789abcdef"
	cfg.Argon2MemoryKiB, cfg.Argon2Time = 1024, 1
	cfg.MaxFileSize = 1 << 20
	bucket, err := blobstore.Open(context.Background(), "mem://")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	a, err := app.Build(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), db, bucket)
	if err != nil {
		t.Fatal(err)
	}
	zed, err := a.Auth.Register(context.Background(), auth.RegisterInput{Username: "zed", Password: zedPassword})
	if err != nil {
		t.Fatal(err)
	}
	return &target{app: a, db: db, zed: zed.ID}
}
