package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/config"
	"github.com/cutline/cutline/internal/database/dbtest"
)

func TestRateLimits(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
		c.RatePerIP, c.RateBurstIP = 0.001, 5
	})
	var last *http.Response
	for i := 0; i < 6; i++ {
		resp, err := http.Post(s.URL+"/graphql", "application/json", strings.NewReader(`{"query":"{ me { id } }"}`))
		if err != nil {
			t.Fatal(err)
		}
		if i < 5 {
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("request %d = %d", i, resp.StatusCode)
			}
			continue
		}
		last = resp
	}
	defer last.Body.Close()
	var body gqlResponse
	json.NewDecoder(last.Body).Decode(&body)
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || body.code() != "RATE_LIMITED" {
		t.Fatalf("6th request: %d Retry-After=%q code=%q", last.StatusCode, last.Header.Get("Retry-After"), body.code())
	}
	// Probes are never limited.
	if resp, _ := http.Get(s.URL + "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("healthz limited: %d", resp.StatusCode)
	}
}

func TestUserRateLimit(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) {
		c.RatePerUser, c.RateBurstUser = 0.001, 3
	})
	tok := s.register(t, "ada").AccessToken
	codes := []string{}
	for i := 0; i < 4; i++ {
		codes = append(codes, s.gql(t, tok, `{ me { id } }`, nil).code())
	}
	if strings.Join(codes, ",") != ",,,RATE_LIMITED" {
		t.Fatalf("codes = %q", codes)
	}
	// Anonymous requests from the same address are not this user's.
	if c := s.gql(t, "", `{ me { id } }`, nil).code(); c != "" {
		t.Fatalf("anonymous request limited: %s", c)
	}
}

// Login attempts count one by one even when batched as aliases in one document.
func TestLoginLimitSurvivesAliasBatching(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.LoginFailureLimit = 3 })
	s.register(t, "ada")
	var q strings.Builder
	q.WriteString("mutation {")
	for i := 0; i < 6; i++ {
		q.WriteString(" a" + string(rune('0'+i)) + `: login(input: {username: "ada", password: "wrong guess ` + string(rune('0'+i)) + `"}) { accessToken }`)
	}
	q.WriteString(" }")
	r := s.gql(t, "", q.String(), nil)
	limited := 0
	for _, e := range r.Errors {
		if e.Extensions["code"] == "RATE_LIMITED" {
			limited++
		}
	}
	if limited < 3 {
		t.Fatalf("only %d of 6 batched attempts were limited: %+v", limited, r.Errors)
	}
	// Even the right password is refused while the account is limited.
	if c := s.gql(t, "", `mutation { login(input: {username: "ada", password: "correct horse battery"}) { accessToken } }`, nil).code(); c != "RATE_LIMITED" {
		t.Fatalf("login after the limit: %q", c)
	}
}

func TestMetricsAndBodyLimit(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), func(c *config.Config) { c.MaxRequestBody = 1024; c.MetricsToken = "scrape-me" })
	s.gql(t, "", `query Named { me { id } }`, nil)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-me")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	buf := make([]byte, 1<<16)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	for _, want := range []string{
		`cutline_http_request_duration_seconds_count{method="POST",route="/graphql",status="200"}`,
		`cutline_graphql_operation_duration_seconds_count{operation="Named",outcome="ok",type="query"}`,
		`go_sql_open_connections{db_name="main"}`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	big := `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`
	resp, err = http.Post(s.URL+"/graphql", "application/json", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 400 {
		t.Fatalf("oversized body accepted: %d", resp.StatusCode)
	}
}
