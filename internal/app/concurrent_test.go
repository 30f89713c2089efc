package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// gqlClient sends GraphQL requests from goroutines other than the test's
// own: it reports failures as errors instead of failing the test.
type gqlClient struct {
	url, token string
	http       *http.Client
}

// call sends one operation (with a file part when file is not empty) and
// decodes data into out. Any error in the answer is an error.
func (c gqlClient) call(ctx context.Context, query string, vars map[string]any, file string, out any) error {
	var body bytes.Buffer
	contentType := "application/json"
	if file != "" {
		mw := multipart.NewWriter(&body)
		vars["f"] = nil
		ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		mw.WriteField("operations", string(ops))
		mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", "upload.csv")
		io.WriteString(fw, file)
		mw.Close()
		contentType = mw.FormDataContentType()
	} else {
		raw, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		body.Write(raw)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", c.url+"/graphql", &body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("status %d, body %q: %w", resp.StatusCode, raw, err)
	}
	if len(r.Errors) > 0 {
		return fmt.Errorf("%s: %s (%s)", firstLine(query), r.Errors[0].Message, r.code())
	}
	if out != nil {
		return json.Unmarshal(r.Data, out)
	}
	return nil
}

// Twenty clients of one user upload, derive, save, retag and delete files
// of the same names at once: every request succeeds, nothing hangs, and
// the live names stay unique (same.csv, same_1.csv, ...).
func TestConcurrentWritersOfOneUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		c := gqlClient{url: s.URL, token: s.register(t, "ada").AccessToken, http: &http.Client{}}
		// A guard against a hang, not a measure of speed: a deadlocked pool
		// would otherwise wait for the test binary's own timeout.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()

		const writers, rounds = 20, 3
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for r := range rounds {
					if err := writerRound(ctx, c, w, r); err != nil {
						fail(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if i < 10 {
				t.Error(err)
			}
		}
		if len(errs) > 0 {
			t.Fatalf("%d of %d writers failed", len(errs), writers)
		}

		var d struct {
			Files struct {
				Edges      []struct{ Node struct{ Name string } }
				TotalCount int
			}
		}
		if err := c.call(ctx, `{ files(first: 500) { edges { node { name } } totalCount } }`, nil, "", &d); err != nil {
			t.Fatal(err)
		}
		// Each round keeps its upload and its saved file, and deletes its cut.
		if want := writers * rounds * 2; d.Files.TotalCount != want {
			t.Fatalf("%d live files, want %d", d.Files.TotalCount, want)
		}
		seen := map[string]bool{}
		for _, e := range d.Files.Edges {
			if seen[e.Node.Name] {
				t.Fatalf("two live files are called %s", e.Node.Name)
			}
			seen[e.Node.Name] = true
		}
		for _, name := range []string{"same.csv", "same_1.csv", "generated.csv", "generated_1.csv"} {
			if !seen[name] {
				t.Errorf("no file is called %s", name)
			}
		}
	})
}

// writerRound is one writer's round: upload, tag, derive, save a file made
// from both, delete the cut.
func writerRound(ctx context.Context, c gqlClient, w, r int) error {
	var up struct{ UploadFile struct{ ID string } }
	if err := c.call(ctx, `mutation($f: Upload!) { uploadFile(file: $f, name: "same.csv") { id } }`,
		map[string]any{}, fmt.Sprintf("writer,round\n%d,%d\n", w, r), &up); err != nil {
		return err
	}
	id := up.UploadFile.ID
	if err := c.call(ctx, `mutation($id: ID!) { updateFileTags(id: $id, add: ["busy"]) { id } }`,
		map[string]any{"id": id}, "", nil); err != nil {
		return err
	}
	var cut struct{ DeriveFile struct{ ID string } }
	if err := c.call(ctx, `mutation($id: ID!) { deriveFile(input: {sourceId: $id, name: "cut.csv", columns: ["writer"]}) { id } }`,
		map[string]any{"id": id}, "", &cut); err != nil {
		return err
	}
	if err := c.call(ctx, `mutation($f: Upload!, $p: [ID!]!) { saveGeneratedFile(file: $f, name: "generated.csv", parentIds: $p) { id } }`,
		map[string]any{"p": []string{id, cut.DeriveFile.ID}}, "writer\n1\n", nil); err != nil {
		return err
	}
	if err := c.call(ctx, `mutation($id: ID!) { updateFileTags(id: $id, set: ["done"]) { id } }`,
		map[string]any{"id": id}, "", nil); err != nil {
		return err
	}
	return c.call(ctx, `mutation($id: ID!) { deleteFile(id: $id) }`, map[string]any{"id": cut.DeriveFile.ID}, "", nil)
}
