// Command seed fills a freshly migrated Cutline PostgreSQL database with a
// realistic dataset for scripts/load/run.sh, then prints shell assignments
// (tokens and ids) for the load run.
//
// A few users register through the running server's API, so their argon2id
// hashes and access tokens are real; a few hundred small CSV files are
// uploaded through POST /api/v1/files, so their objects, sizes, hashes and
// column profiles are real. Everything else is inserted directly in SQL:
// the other users copy one real hash (same password), and every seeded file
// row points at one of the uploaded objects by object_key. Files carry user
// tags (JSON columns and file_tags rows) and lineage edges: per owner, files
// in creation order form groups of 8 shaped as a diamond followed by a
// chain (0->1, 0->2, 1->3, 2->3, 3->4, 4->5, 5->6, 6->7), and every other
// group continues the previous one (7 -> next 0).
//
//	go run ./scripts/load/seed -base http://127.0.0.1:18400 -db postgres://...
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Password is every seeded user's password.
const Password = "load-test password"

type config struct {
	base, db          string
	users, files      int
	heavyFiles        int
	typicalFiles      int
	objects           int
	rowsMin, rowsMax  int
	seed              uint64
	httpTimeout       time.Duration
	progress          io.Writer
	out               io.Writer
	registeredAccount []string
}

func main() {
	var c config
	flag.StringVar(&c.base, "base", "http://127.0.0.1:18400", "the running server (loopback only)")
	flag.StringVar(&c.db, "db", "", "the server's PostgreSQL URL")
	flag.IntVar(&c.users, "users", 1000, "users in total")
	flag.IntVar(&c.files, "files", 100000, "files in total")
	flag.IntVar(&c.heavyFiles, "heavy-files", 30000, "files owned by the heavy user")
	flag.IntVar(&c.typicalFiles, "typical-files", 100, "files owned by the typical user")
	flag.IntVar(&c.objects, "objects", 300, "distinct CSV objects uploaded through the API")
	flag.IntVar(&c.rowsMin, "rows-min", 200, "fewest data rows in an object")
	flag.IntVar(&c.rowsMax, "rows-max", 400, "most data rows in an object")
	flag.Uint64Var(&c.seed, "seed", 1, "random seed")
	flag.Parse()
	c.httpTimeout = 30 * time.Second
	c.progress = os.Stderr
	c.out = os.Stdout
	c.registeredAccount = []string{"heavy", "typical", "uploader", "spare"}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

type account struct {
	name, token string
	id          int64
}

func run(ctx context.Context, c config) error {
	u, err := url.Parse(c.base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return fmt.Errorf("-base must be a loopback URL, got %q", c.base)
	}
	if c.db == "" {
		return fmt.Errorf("-db is required")
	}
	if c.heavyFiles+c.typicalFiles+c.objects > c.files || c.objects > c.heavyFiles {
		return fmt.Errorf("inconsistent counts")
	}
	sqldb := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(c.db), pgdriver.WithApplicationName("cutline-seed")))
	db := bun.NewDB(sqldb, pgdialect.New())
	defer db.Close()
	hc := &http.Client{Timeout: c.httpTimeout}
	rng := rand.New(rand.NewPCG(c.seed, 7))
	start := time.Now()

	// 1. Real accounts through the API.
	accts := map[string]*account{}
	for _, name := range c.registeredAccount {
		a, err := register(hc, c.base, name)
		if err != nil {
			return err
		}
		accts[name] = a
	}
	heavy, typical := accts["heavy"], accts["typical"]
	var hash string
	if err := db.NewRaw("SELECT password_hash FROM users WHERE id = ?", heavy.id).Scan(ctx, &hash); err != nil {
		return fmt.Errorf("read hash: %w", err)
	}
	fmt.Fprintf(c.progress, "seed: registered %d users through the API\n", len(accts))

	// 2. Real objects through the streaming upload endpoint.
	for i := 0; i < c.objects; i++ {
		rows := c.rowsMin + rng.IntN(c.rowsMax-c.rowsMin+1)
		body := makeCSV(rng, rows)
		q := url.Values{"name": {fmt.Sprintf("source_%03d.csv", i)}, "tags": {"source,q" + strconv.Itoa(1+i%4)}}
		if err := upload(hc, c.base, heavy.token, q, body); err != nil {
			return fmt.Errorf("upload object %d: %w", i, err)
		}
	}
	type template struct {
		ObjectKey   string `bun:"object_key"`
		Size        int64  `bun:"size"`
		SHA256      string `bun:"sha256"`
		ContentType string `bun:"content_type"`
		Encoding    string `bun:"encoding"`
		Delimiter   string `bun:"delimiter"`
		RowCount    int64  `bun:"row_count"`
		Columns     string `bun:"columns"`
	}
	var tpls []template
	if err := db.NewRaw(`SELECT object_key, size, sha256, content_type, encoding, delimiter, row_count, columns
		FROM files WHERE owner_id = ? AND object_key IS NOT NULL ORDER BY name`, heavy.id).Scan(ctx, &tpls); err != nil {
		return fmt.Errorf("read templates: %w", err)
	}
	if len(tpls) != c.objects {
		return fmt.Errorf("expected %d uploaded objects, found %d", c.objects, len(tpls))
	}
	fmt.Fprintf(c.progress, "seed: uploaded %d CSV objects through the API\n", len(tpls))

	// 3. The other users, sharing one real argon2id hash.
	others := make([]userRow, 0, c.users-len(accts))
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := len(accts); i < c.users; i++ {
		name := fmt.Sprintf("user%04d", i)
		email := name + "@example.com"
		others = append(others, userRow{Username: name, UsernameKey: name, Email: &email, EmailKey: &email,
			PasswordHash: hash, CreatedAt: now.Add(-time.Duration(400*24-i) * time.Hour)})
	}
	if _, err := db.NewInsert().Model(&others).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert users: %w", err)
	}

	// 4. Files: who owns what, when.
	type plan struct {
		owner int64
		at    time.Time
	}
	plans := make([]plan, 0, c.files)
	year := 365 * 24 * time.Hour
	for i := c.objects; i < c.heavyFiles; i++ {
		plans = append(plans, plan{owner: heavy.id})
	}
	for i := 0; i < c.typicalFiles; i++ {
		plans = append(plans, plan{owner: typical.id})
	}
	for len(plans) < c.files-c.objects {
		// Skewed: a few users own many files, most own a few dozen.
		x := rng.Float64()
		plans = append(plans, plan{owner: others[int(x*x*float64(len(others)))].ID})
	}
	for i := range plans {
		plans[i].at = now.Add(-time.Hour - time.Duration(rng.Int64N(int64(year))))
	}
	byOwner := map[int64][]*fileRow{}
	var fileRows []*fileRow
	var tagRows []tagRow
	userTagPool := []string{"q1", "q2", "q3", "q4", "sales", "finance", "hr", "ops", "draft", "final", "2025", "2026"}
	bases := []string{"sales", "customers", "orders", "inventory", "payroll", "leads", "survey", "events"}
	count := map[int64]int{}
	for _, p := range plans {
		t := tpls[rng.IntN(len(tpls))]
		id := uuid.NewString()
		var tags []string
		for n := rng.IntN(4); len(tags) < n; {
			tag := userTagPool[rng.IntN(len(userTagPool))]
			if !contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		count[p.owner]++
		key := t.ObjectKey
		f := &fileRow{
			ID: id, OwnerID: p.owner, Name: fmt.Sprintf("%s_%d.csv", bases[rng.IntN(len(bases))], count[p.owner]),
			ObjectKey: &key, Size: t.Size, SHA256: t.SHA256, ContentType: t.ContentType, Encoding: t.Encoding,
			Delimiter: t.Delimiter, RowCount: t.RowCount, Columns: t.Columns, Origin: "UPLOADED",
			SystemTags: `["uploaded"]`, UserTags: jsonList(tags), CreatedAt: p.at,
		}
		fileRows = append(fileRows, f)
		byOwner[p.owner] = append(byOwner[p.owner], f)
		for _, tag := range tags {
			tagRows = append(tagRows, tagRow{FileID: id, Tag: tag})
		}
	}

	// 5. Lineage: diamonds and chains within each owner's files.
	var edges []edgeRow
	var derivs []derivationRow
	parents := map[string][]string{}
	addEdge := func(p, ch *fileRow) {
		edges = append(edges, edgeRow{ParentID: p.ID, ChildID: ch.ID, Kind: "CUT_TO", CreatedAt: ch.CreatedAt})
		parents[ch.ID] = append(parents[ch.ID], p.ID)
		ch.Origin, ch.SystemTags = "GENERATED", `["generated"]`
	}
	shape := [][2]int{{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}}
	var lineageFile, rowsFile string
	for owner, list := range byOwner {
		sort.Slice(list, func(i, j int) bool { return list[i].CreatedAt.Before(list[j].CreatedAt) })
		groups := len(list) / 8
		for g := 0; g < groups; g++ {
			grp := list[g*8 : g*8+8]
			for _, e := range shape {
				addEdge(grp[e[0]], grp[e[1]])
			}
			if g%2 == 1 {
				addEdge(list[(g-1)*8+7], grp[0])
			}
		}
		if owner == heavy.id {
			mid := (groups / 2) | 1 // an odd group: it continues the previous one
			lineageFile = list[mid*8+3].ID
			rowsFile = list[mid*8].ID
		}
	}
	for _, f := range fileRows {
		if ps := parents[f.ID]; len(ps) > 0 {
			derivs = append(derivs, derivationRow{FileID: f.ID, SourceIDs: jsonList(ps), Columns: `[]`,
				FilterSQL: "age >= 30", CreatedBy: f.OwnerID, CreatedAt: f.CreatedAt})
		}
		f.SystemTagRow(&tagRows)
	}

	// 6. Insert in batches, in one transaction.
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, b := range batches(len(fileRows), 2000) {
			part := fileRows[b[0]:b[1]]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return fmt.Errorf("insert files: %w", err)
			}
		}
		for _, b := range batches(len(tagRows), 5000) {
			part := tagRows[b[0]:b[1]]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return fmt.Errorf("insert file_tags: %w", err)
			}
		}
		for _, b := range batches(len(edges), 5000) {
			part := edges[b[0]:b[1]]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return fmt.Errorf("insert edges: %w", err)
			}
		}
		for _, b := range batches(len(derivs), 2000) {
			part := derivs[b[0]:b[1]]
			if _, err := tx.NewInsert().Model(&part).Exec(ctx); err != nil {
				return fmt.Errorf("insert derivations: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	var nUsers, nFiles, nTags, nEdges, nHeavy, nTypical int
	db.NewRaw("SELECT count(*) FROM users").Scan(ctx, &nUsers)
	db.NewRaw("SELECT count(*) FROM files").Scan(ctx, &nFiles)
	db.NewRaw("SELECT count(*) FROM file_tags").Scan(ctx, &nTags)
	db.NewRaw("SELECT count(*) FROM edges").Scan(ctx, &nEdges)
	db.NewRaw("SELECT count(*) FROM files WHERE owner_id = ?", heavy.id).Scan(ctx, &nHeavy)
	db.NewRaw("SELECT count(*) FROM files WHERE owner_id = ?", typical.id).Scan(ctx, &nTypical)
	fmt.Fprintf(c.progress, "seed: %d users, %d files (heavy user %d, typical user %d), %d file_tags rows, %d edges, %d derivations in %.1fs\n",
		nUsers, nFiles, nHeavy, nTypical, nTags, nEdges, len(derivs), time.Since(start).Seconds())

	w := c.out
	fmt.Fprintf(w, "SEED_USERS=%d\nSEED_FILES=%d\nSEED_FILE_TAGS=%d\nSEED_EDGES=%d\nSEED_HEAVY_FILES=%d\nSEED_TYPICAL_FILES=%d\nSEED_OBJECTS=%d\n",
		nUsers, nFiles, nTags, nEdges, nHeavy, nTypical, len(tpls))
	fmt.Fprintf(w, "PASSWORD='%s'\n", Password)
	for _, name := range c.registeredAccount {
		a := accts[name]
		up := strings.ToUpper(name)
		fmt.Fprintf(w, "%s_USER=%s\n%s_ID=%d\n%s_TOKEN=%s\n", up, a.name, up, a.id, up, a.token)
	}
	fmt.Fprintf(w, "LINEAGE_FILE=%s\nROWS_FILE=%s\n", lineageFile, rowsFile)
	return nil
}

type userRow struct {
	bun.BaseModel `bun:"table:users"`
	ID            int64     `bun:"id,pk,autoincrement"`
	Username      string    `bun:"username"`
	UsernameKey   string    `bun:"username_key"`
	Email         *string   `bun:"email"`
	EmailKey      *string   `bun:"email_key"`
	PasswordHash  string    `bun:"password_hash"`
	CreatedAt     time.Time `bun:"created_at"`
}

type fileRow struct {
	bun.BaseModel `bun:"table:files"`
	ID            string    `bun:"id,pk"`
	OwnerID       int64     `bun:"owner_id"`
	Name          string    `bun:"name"`
	ObjectKey     *string   `bun:"object_key"`
	Size          int64     `bun:"size"`
	SHA256        string    `bun:"sha256"`
	ContentType   string    `bun:"content_type"`
	Encoding      string    `bun:"encoding"`
	Delimiter     string    `bun:"delimiter"`
	RowCount      int64     `bun:"row_count"`
	Columns       string    `bun:"columns"`
	Origin        string    `bun:"origin"`
	SystemTags    string    `bun:"system_tags"`
	UserTags      string    `bun:"user_tags"`
	CreatedAt     time.Time `bun:"created_at"`
}

// SystemTagRow adds the file's system tag to file_tags, as the server does.
func (f *fileRow) SystemTagRow(rows *[]tagRow) {
	tag := "uploaded"
	if f.Origin == "GENERATED" {
		tag = "generated"
	}
	*rows = append(*rows, tagRow{FileID: f.ID, Tag: tag})
}

type tagRow struct {
	bun.BaseModel `bun:"table:file_tags"`
	FileID        string `bun:"file_id,pk"`
	Tag           string `bun:"tag,pk"`
}

type edgeRow struct {
	bun.BaseModel `bun:"table:edges"`
	ParentID      string    `bun:"parent_id,pk"`
	ChildID       string    `bun:"child_id,pk"`
	Kind          string    `bun:"kind"`
	CreatedAt     time.Time `bun:"created_at"`
}

type derivationRow struct {
	bun.BaseModel `bun:"table:derivations"`
	FileID        string    `bun:"file_id,pk"`
	SourceIDs     string    `bun:"source_ids"`
	Columns       string    `bun:"columns"`
	FilterSQL     string    `bun:"filter_sql"`
	CreatedBy     int64     `bun:"created_by"`
	CreatedAt     time.Time `bun:"created_at"`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func jsonList(s []string) string {
	if s == nil {
		s = []string{}
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func batches(n, size int) [][2]int {
	var out [][2]int
	for i := 0; i < n; i += size {
		out = append(out, [2]int{i, min(i+size, n)})
	}
	return out
}

// makeCSV writes rows data rows shaped like internal/benchdata's files.
func makeCSV(rng *rand.Rand, rows int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "name", "age", "score", "city", "joined", "active", "email", "amount", "note"})
	cities := []string{"NYC", "LA", "SF", "Chicago", "Boston", "Austin", "Denver", "Seattle"}
	names := []string{"Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "Linus", "Donald"}
	for i := 1; i <= rows; i++ {
		note := "plain note"
		if rng.IntN(10) == 0 {
			note = `says "hi", twice`
		}
		w.Write([]string{
			strconv.Itoa(i),
			names[rng.IntN(len(names))] + " " + names[rng.IntN(len(names))],
			strconv.Itoa(18 + rng.IntN(60)),
			strconv.FormatFloat(rng.Float64()*1000, 'f', 2, 64),
			cities[rng.IntN(len(cities))],
			fmt.Sprintf("20%02d-%02d-%02d", rng.IntN(25), 1+rng.IntN(12), 1+rng.IntN(28)),
			strconv.FormatBool(rng.IntN(2) == 0),
			strings.ToLower(names[rng.IntN(len(names))]) + strconv.Itoa(i) + "@example.com",
			strconv.FormatFloat(rng.Float64()*1e5, 'f', 2, 64),
			note,
		})
	}
	w.Flush()
	return buf.Bytes()
}

func register(hc *http.Client, base, name string) (*account, error) {
	q := `mutation($u: String!, $p: String!) { register(input: {username: $u, password: $p}) { accessToken user { id } } }`
	b, _ := json.Marshal(map[string]any{"query": q, "variables": map[string]string{"u": name, "p": Password}})
	resp, err := hc.Post(base+"/graphql", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out struct {
		Data struct {
			Register struct {
				AccessToken string
				User        struct{ ID string }
			}
		}
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Data.Register.AccessToken == "" {
		return nil, fmt.Errorf("register %s: %d %s", name, resp.StatusCode, raw)
	}
	id, err := strconv.ParseInt(out.Data.Register.User.ID, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("register %s: user id %q is not a number", name, out.Data.Register.User.ID)
	}
	return &account{name: name, token: out.Data.Register.AccessToken, id: id}, nil
}

func upload(hc *http.Client, base, token string, q url.Values, body []byte) error {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/files?"+q.Encode(), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		raw, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%d %s", resp.StatusCode, raw)
	}
	io.Copy(io.Discard, resp.Body)
	return nil
}
