package app_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// Every CSV variant of csvio's byte-exact fixtures, uploaded through
// GraphQL: understood, readable as rows, and downloaded byte for byte.
func TestCSVVariantsThroughGraphQL(t *testing.T) {
	cases := []struct {
		file, encoding, delimiter string
		rows                      int64
		firstRow                  string
	}{
		{"utf8_bom.csv", "utf-8-bom", ",", 2, "José|Zürich"},
		{"utf16le_bom.csv", "utf-16le", ";", 2, "Éclair|3,50"},
		{"utf16be_bom.csv", "utf-16be", "", 0, ""},
		{"windows1252.csv", "windows-1252", "", 0, ""},
		{"crlf.csv", "utf-8", ",", 0, ""},
		{"cr_only.csv", "utf-8", "", 0, ""},
		{"semicolon.csv", "utf-8", ";", 0, ""},
		{"tab.tsv", "utf-8", "\t", 0, ""},
		{"pipe.csv", "utf-8", "|", 0, ""},
		{"quoted.csv", "utf-8", ",", 0, ""},
		{"header_names.csv", "utf-8", "", 0, ""},
		{"ragged.csv", "utf-8", "", 0, ""},
		{"header_only.csv", "utf-8", "", 0, ""},
	}
	rejected := []string{"binary.png", "nul.csv", "empty.csv", "controls.bin"}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		for _, c := range cases {
			raw, err := os.ReadFile(filepath.Join("..", "csvio", "testdata", c.file))
			if err != nil {
				t.Fatal(err)
			}
			id := s.uploadOK(t, tok, c.file, string(raw))
			var d struct {
				File struct {
					Encoding, Delimiter, DownloadURL string
					RowCount                         int64
					Columns                          []struct{ Name string }
					Rows                             struct {
						Edges []struct{ Node struct{ Values []*string } }
					}
				}
			}
			s.ok(t, tok, `query($id: ID!) { file(id: $id) { encoding delimiter rowCount downloadUrl columns { name }
				rows(first: 1) { edges { node { values } } } } }`, map[string]any{"id": id}, &d)
			f := d.File
			if f.Encoding != c.encoding || (c.delimiter != "" && f.Delimiter != c.delimiter) || (c.rows != 0 && f.RowCount != c.rows) {
				t.Errorf("%s: encoding %q delimiter %q rows %d", c.file, f.Encoding, f.Delimiter, f.RowCount)
			}
			if c.firstRow != "" {
				var got []string
				for _, v := range f.Rows.Edges[0].Node.Values {
					got = append(got, deref(v))
				}
				if strings.Join(got, "|") != c.firstRow {
					t.Errorf("%s: first row %q, want %q", c.file, strings.Join(got, "|"), c.firstRow)
				}
			}
			names := map[string]bool{}
			for _, col := range f.Columns {
				if col.Name == "" || names[col.Name] {
					t.Errorf("%s: blank or duplicate column name %q", c.file, col.Name)
				}
				names[col.Name] = true
			}
			resp, err := http.Get(s.URL + f.DownloadURL)
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			buf := make([]byte, 4096)
			for {
				n, err := resp.Body.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if got.String() != string(raw) {
				t.Errorf("%s: downloaded bytes differ from the upload", c.file)
			}
		}
		for _, name := range rejected {
			raw, err := os.ReadFile(filepath.Join("..", "csvio", "testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			r := s.upload(t, tok, uploadMutation, map[string]any{}, "f", name, string(raw))
			if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "not a CSV file") {
				t.Errorf("%s: %+v", name, r.Errors)
			}
		}
		var list struct{ Files struct{ TotalCount int } }
		s.ok(t, tok, `{ files { totalCount } }`, nil, &list)
		if list.Files.TotalCount != len(cases) {
			t.Fatalf("%d files stored, want %d", list.Files.TotalCount, len(cases))
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestDateColumnsThroughGraphQL(t *testing.T) {
	s := newServer(t, dbtest.SQLite(t), nil)
	tok := s.register(t, "ada").AccessToken
	id := s.uploadOK(t, tok, "d.csv", "name,joined,born\nAda,12/31/2019,1815-12-10\nBob,01/15/2021,1990-05-01\n")
	var d struct {
		File struct {
			Columns []struct {
				Name, Type string
				DateFormat *string
			}
			Rows struct {
				Edges []struct{ Node struct{ Values []*string } }
			}
		}
	}
	s.ok(t, tok, `query($id: ID!) { file(id: $id) { columns { name type dateFormat }
		rows(columns: ["name"], whereSql: "joined > '2020-06-01'") { edges { node { values } } } } }`, map[string]any{"id": id}, &d)
	cols := d.File.Columns
	if cols[0].DateFormat != nil || cols[1].Type != "DATETIME" || deref(cols[1].DateFormat) != "us" || deref(cols[2].DateFormat) != "iso" {
		t.Fatalf("columns = %+v", cols)
	}
	if len(d.File.Rows.Edges) != 1 || deref(d.File.Rows.Edges[0].Node.Values[0]) != "Bob" {
		t.Fatalf("US dates did not compare chronologically: %+v", d.File.Rows.Edges)
	}
}
