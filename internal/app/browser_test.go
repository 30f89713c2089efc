package app_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cutline/cutline/internal/database/dbtest"
)

// chromium finds the browser for the tests that drive one (CHROMIUM names
// it, or chromium on PATH). Without one they skip, except under CI=true:
// .ci/run installs Debian's chromium when it is missing.
func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("drives a browser")
	}
	for _, name := range []string{os.Getenv("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH (set CHROMIUM to the browser)")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// TestPlaygroundDocsInABrowser opens /playground in headless Chromium, as a
// person would on a machine without internet: GraphiQL starts, its Docs
// pane lists the root types from the server's introspection, and opening
// Query shows our fields with their descriptions. Every request the page
// makes goes to the server itself, and no script fails.
func TestPlaygroundDocsInABrowser(t *testing.T) {
	browser := chromium(t)
	s := newServer(t, dbtest.SQLite(t), nil)
	base, _ := url.Parse(s.URL)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		// Without these Chromium calls home, which a closed network refuses.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()

	var mu sync.Mutex
	var outside, failures []string
	// The listener sees every event of the tab from its start, in order.
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			u, err := url.Parse(e.Request.URL)
			if err != nil || u.Scheme != "data" && u.Host != base.Host {
				outside = append(outside, e.Request.URL)
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			failures = append(failures, msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				failures = append(failures, "console.error: "+strings.Join(args, " "))
			}
		}
	}))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	fail := func(step string, err error) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%s: %v (script failures: %v)", step, err, failures)
	}
	docs := chromedp.CSS(".graphiql-doc-explorer-content")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/playground"),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-container")),
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)),
		chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer-root-type")),
	); err != nil {
		fail("open the Docs pane", err)
	}
	rootTypes, err := chromedp.Run(ctx, chromedp.Text(docs))
	if err != nil {
		fail("read the root types", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a.graphiql-doc-explorer-type-name")), // the first is Query
		chromedp.WaitVisible(chromedp.CSS(".graphiql-doc-explorer-field-name")),
	); err != nil {
		fail("open Query", err)
	}
	queryDocs, err := chromedp.Run(ctx, chromedp.Text(docs))
	if err != nil {
		fail("read Query", err)
	}
	for _, want := range []string{"query", "Query", "mutation", "Mutation", "subscription", "Subscription"} {
		if !strings.Contains(rootTypes, want) {
			t.Errorf("the Docs pane's root types %q lack %q", rootTypes, want)
		}
	}
	for _, want := range []string{"files", "The caller's files", "node", "lineage"} {
		if !strings.Contains(queryDocs, want) {
			t.Errorf("the Docs pane's Query %q lacks %q", queryDocs, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outside) > 0 {
		t.Errorf("the page requested addresses outside the server: %v", outside)
	}
	if len(failures) > 0 {
		t.Errorf("the page's scripts failed: %v", failures)
	}
}
