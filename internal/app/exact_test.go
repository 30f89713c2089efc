package app_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cutline/cutline/internal/database"
	"github.com/cutline/cutline/internal/database/dbtest"
)

// The files of testdata/exact hold what real exports do to a CSV reader:
// whole numbers beyond float64's precision, ZIP codes, a windows-1252 byte
// after 64 KiB of ASCII, classic Mac exports, a stray quote, rows longer
// and shorter than the header, a value beyond float64's range. Each goes
// through both uploads (GraphQL and REST) and both cuts (GraphQL rows and
// deriveFile, REST cut), and no cell may be lost, changed or mis-decoded.

func exactFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "exact", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type exactColumn struct {
	Name, Type string
	Min, Max   *string
}

type readIssues struct{ ShortRows, LongRows, RepairedRows int64 }

type exactFile struct {
	ID, Encoding string
	RowCount     int64
	Columns      []exactColumn
	ReadIssues   *readIssues
}

const exactFileFields = `id encoding rowCount columns { name type min max } readIssues { shortRows longRows repairedRows }`

// uploadBoth uploads data through GraphQL's uploadFile and through
// POST /api/v1/files, stating encoding if it is not empty, and checks that
// both uploads learned the same. It returns the GraphQL upload's file and
// the REST upload's id.
func (s *server) uploadBoth(t *testing.T, token, name string, data []byte, encoding string) (exactFile, string) {
	t.Helper()
	vars := map[string]any{}
	if encoding != "" {
		vars["enc"] = encoding
	}
	r := s.upload(t, token, `mutation($f: Upload!, $enc: String) { uploadFile(file: $f, encoding: $enc) { `+exactFileFields+` } }`,
		vars, "f", name, string(data))
	if len(r.Errors) > 0 {
		t.Fatalf("GraphQL upload of %s: %+v", name, r.Errors)
	}
	var g struct{ UploadFile exactFile }
	if err := json.Unmarshal(r.Data, &g); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"name": {name}}
	if encoding != "" {
		q.Set("encoding", encoding)
	}
	code, _, body := s.call(t, "POST", "/api/v1/files?"+q.Encode(), token, "text/csv", bytes.NewReader(data))
	if code != http.StatusCreated {
		t.Fatalf("REST upload of %s = %d %s", name, code, body)
	}
	var rf exactFile
	if err := json.Unmarshal([]byte(body), &rf); err != nil {
		t.Fatal(err)
	}
	want := g.UploadFile
	rf.ID, want.ID = "", ""
	if !reflect.DeepEqual(rf, want) {
		t.Fatalf("%s: REST upload learned %+v, GraphQL %+v", name, rf, want)
	}
	return g.UploadFile, mustID(t, body)
}

func mustID(t *testing.T, body string) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", body)
	}
	return v.ID
}

// rawGQL runs a query and returns the raw answer, which must be valid
// UTF-8 (strict JSON parsers refuse anything else), decoded into out.
func (s *server) rawGQL(t *testing.T, token, query string, vars map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	code, _, raw := s.call(t, "POST", "/graphql", token, "application/json", bytes.NewReader(body))
	if !utf8.ValidString(raw) {
		t.Fatalf("%s: the answer is not valid UTF-8: %q", firstLine(query), raw)
	}
	var r struct {
		Data   json.RawMessage
		Errors []any
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil || len(r.Errors) > 0 || code != 200 {
		t.Fatalf("%s: %d %s", firstLine(query), code, raw)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatal(err)
	}
}

// exactCut is one selection of a fixture and the CSV it must give.
type exactCut struct {
	columns  []string
	whereSQL string
	where    map[string]any // the typed filter, instead of whereSQL
	want     string         // the whole CSV, header included
}

// checkCut runs c on file id through the GraphQL rows field, through
// deriveFile (then downloading the new file) and through the REST cut.
func (s *server) checkCut(t *testing.T, token, id string, c exactCut) {
	t.Helper()
	wantRows, err := csv.NewReader(strings.NewReader(c.want)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{"id": id, "cols": c.columns}
	if c.where != nil {
		vars["where"] = c.where
	} else {
		vars["sql"] = c.whereSQL
	}

	var page struct {
		File struct {
			Rows struct {
				Columns []string
				Edges   []struct{ Node struct{ Values []*string } }
			}
		}
	}
	s.rawGQL(t, token, `query($id: ID!, $cols: [String!], $where: RowFilter, $sql: String) { file(id: $id) {
		rows(first: 100, columns: $cols, where: $where, whereSql: $sql) { columns edges { node { values } } } } }`, vars, &page)
	got := [][]string{page.File.Rows.Columns}
	for _, e := range page.File.Rows.Edges {
		row := make([]string, len(e.Node.Values))
		for i, v := range e.Node.Values {
			if v != nil {
				row[i] = *v
			}
		}
		got = append(got, row)
	}
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("rows %s %v: got %q, want %q", c.whereSQL, c.where, got, wantRows)
	}

	body := map[string]any{"columns": c.columns}
	if c.where != nil {
		body["where"] = c.where
	} else {
		body["whereSql"] = c.whereSQL
	}
	b, _ := json.Marshal(body)
	code, hdr, cut := s.call(t, "POST", "/api/v1/files/"+id+"/cut", token, "application/json", bytes.NewReader(b))
	if code != 200 || cut != c.want || hdr.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("REST cut %s %v = %d %s %q, want %q", c.whereSQL, c.where, code, hdr.Get("Content-Type"), cut, c.want)
	}

	var d struct{ DeriveFile struct{ ID string } }
	s.rawGQL(t, token, `mutation($id: ID!, $cols: [String!], $where: RowFilter, $sql: String) {
		deriveFile(input: {sourceId: $id, name: "cut.csv", columns: $cols, where: $where, whereSql: $sql}) { id } }`, vars, &d)
	code, _, derived := s.call(t, "GET", "/api/v1/files/"+d.DeriveFile.ID+"/content", token, "", nil)
	if code != 200 || derived != c.want {
		t.Errorf("deriveFile %s %v = %d %q, want %q", c.whereSQL, c.where, code, derived, c.want)
	}
}

func str(s string) *string { return &s }

func TestExactData(t *testing.T) {
	cases := []struct {
		file, encoding string
		want           exactFile
		cuts           []exactCut
	}{
		{
			// Whole numbers beyond 2^53 compare exactly, never through float64.
			file: "ints.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 6, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"id", "INTEGER", str("1"), str("6")}, {"n", "INTEGER", str("9007199254740992"), str("1234567890123456789")}}},
			cuts: []exactCut{
				{whereSQL: "n = 9007199254740993", want: "id,n\n1,9007199254740993\n"},
				{whereSQL: "n = 1234567890123456789", want: "id,n\n3,1234567890123456789\n"},
				{whereSQL: "n IN (1234567890123456750)", want: "id,n\n5,1234567890123456750\n"},
				{columns: []string{"id"}, whereSQL: "n != 9007199254740993", want: "id\n2\n3\n4\n5\n6\n"},
				{columns: []string{"id"}, whereSQL: "n > 1234567890123456750 OR n BETWEEN 9007199254740992 AND 9007199254740992", want: "id\n2\n3\n6\n"},
				{columns: []string{"id"}, where: map[string]any{"column": "n", "eq": "9007199254740993"}, want: "id\n1\n"},
				{columns: []string{"id"}, where: map[string]any{"column": "n", "in": []string{"1234567890123456768", "1234567890123456700"}}, want: "id\n4\n6\n"},
			},
		},
		{
			// A TEXT column of digits (007 makes it TEXT) compares exactly too.
			file: "digits.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 3, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"id", "INTEGER", str("1"), str("3")}, {"code", "TEXT", str("007"), str("9007199254740993")}}},
			cuts: []exactCut{
				{whereSQL: "code = 9007199254740993", want: "id,code\n1,9007199254740993\n"},
				{where: map[string]any{"column": "code", "eq": "9007199254740992"}, want: "id,code\n2,9007199254740992\n"},
				{whereSQL: "code = '007'", want: "id,code\n3,007\n"},
				{whereSQL: "code = 7", want: "id,code\n"},
			},
		},
		{
			// A quoted constant on a TEXT column is text.
			file: "zips.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 2, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"city", "TEXT", str("Boston"), str("Other")}, {"zip", "TEXT", str("02134"), str("2134")}}},
			cuts: []exactCut{
				{whereSQL: "zip = '02134'", want: "city,zip\nBoston,02134\n"},
				{whereSQL: "zip = '2134'", want: "city,zip\nOther,2134\n"},
				{whereSQL: "zip = 2134", want: "city,zip\nOther,2134\n"},
				{where: map[string]any{"column": "zip", "eq": "02134"}, want: "city,zip\nBoston,02134\n"},
				{whereSQL: "zip IN (2134, '02134')", want: "city,zip\nBoston,02134\nOther,2134\n"},
			},
		},
		{
			// One windows-1252 byte after 64 KiB of ASCII decides the file.
			file: "windows1252_late.csv",
			want: exactFile{Encoding: "windows-1252", RowCount: 6001, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"name", "TEXT", str("Café"), str("row05999")}, {"n", "INTEGER", str("0"), str("5999")}}},
			cuts: []exactCut{
				{whereSQL: "n = 1", want: "name,n\nrow00001,1\nCafé,1\n"},
				{whereSQL: "name = 'Café'", want: "name,n\nCafé,1\n"},
				{where: map[string]any{"column": "name", "startsWith": "Caf"}, want: "name,n\nCafé,1\n"},
			},
		},
		{
			// A classic Mac export: CR-only lines and Mac Roman punctuation.
			file: "macroman_cr.csv",
			want: exactFile{Encoding: "macintosh", RowCount: 2, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"id", "INTEGER", str("1"), str("2")}, {"desc", "TEXT", str("it’s 6–18 ft"), str("“café”")}}},
			cuts: []exactCut{
				{whereSQL: "desc LIKE '%’%'", want: "id,desc\n1,it’s 6–18 ft\n"},
				{whereSQL: "desc = '“café”'", want: "id,desc\n2,“café”\n"},
			},
		},
		{
			// The same bytes with LF line ends carry no evidence of a Mac,
			// so the caller states the encoding.
			file: "macroman_lf.csv", encoding: "mac-roman",
			want: exactFile{Encoding: "macintosh", RowCount: 1, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"id", "INTEGER", str("1"), str("1")}, {"desc", "TEXT", str("it’s 6–18 ft"), str("it’s 6–18 ft")}}},
			cuts: []exactCut{{columns: []string{"desc"}, want: "desc\nit’s 6–18 ft\n"}},
		},
		{
			// Detected, the same file is windows-1252: every byte is kept.
			file: "macroman_lf.csv",
			want: exactFile{Encoding: "windows-1252", RowCount: 1, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"id", "INTEGER", str("1"), str("1")}, {"desc", "TEXT", str("itÕs 6Ð18 ft"), str("itÕs 6Ð18 ft")}}},
			cuts: []exactCut{{columns: []string{"desc"}, want: "desc\nitÕs 6Ð18 ft\n"}},
		},
		{
			// A closing quote followed by more text ends the quoted part.
			file: "stray_quote.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 2, ReadIssues: &readIssues{RepairedRows: 1},
				Columns: []exactColumn{{"xy", "INTEGER", str("3"), str("5")}, {"2", "INTEGER", str("4"), str("6")}}},
			cuts: []exactCut{
				{want: "xy,2\n3,4\n5,6\n"},
				{whereSQL: "xy > 3", want: "xy,2\n5,6\n"},
			},
		},
		{
			// A space before a quote makes the quote data and splits the
			// cell: the row is long, and its last cell gets a column.
			file: "space_quote.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 2, ReadIssues: &readIssues{LongRows: 1},
				Columns: []exactColumn{{"a", "INTEGER", str("1"), str("2")}, {"b", "TEXT", str(` "x`), str("z")}, {"column_3", "TEXT", str(`y"`), str(`y"`)}}},
			cuts: []exactCut{
				{want: "a,b,column_3\n1,\" \"\"x\",\"y\"\"\"\n2,z,\n"},
				{columns: []string{"a"}, whereSQL: "column_3 IS NOT NULL", want: "a\n1\n"},
			},
		},
		{
			file: "ragged.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 4, ReadIssues: &readIssues{ShortRows: 2, LongRows: 1},
				Columns: []exactColumn{{"a", "INTEGER", str("1"), str("1")}, {"b", "INTEGER", str("2"), str("2")}, {"c", "INTEGER", str("3"), str("3")},
					{"column_4", "INTEGER", str("4"), str("4")}, {"column_5", "INTEGER", str("5"), str("5")}}},
			cuts: []exactCut{
				{want: "a,b,c,column_4,column_5\n1,,,,\n1,2,,,\n1,2,3,,\n1,2,3,4,5\n"},
				{columns: []string{"column_5", "a"}, whereSQL: "column_4 = 4", want: "column_5,a\n5,1\n"},
				// A blank whereSql is no filter.
				{columns: []string{"a"}, whereSQL: " \n\t ", want: "a\n1\n1\n1\n1\n"},
				{columns: []string{"a"}, whereSQL: "", want: "a\n1\n1\n1\n1\n"},
			},
		},
		{
			// 1e400 is beyond float64: text in the profile and in the filter.
			file: "inf.csv",
			want: exactFile{Encoding: "utf-8", RowCount: 2, ReadIssues: &readIssues{},
				Columns: []exactColumn{{"x", "TEXT", str("1e400"), str("5")}}},
			cuts: []exactCut{
				{whereSQL: "x = 2e400", want: "x\n"},
				{whereSQL: "x > 5e307", want: "x\n"},
				{whereSQL: "x = 1e400", want: "x\n1e400\n"},
				{whereSQL: "x < 6", want: "x\n1e400\n5\n"}, // 5 by number, 1e400 by text ("1e400" < "6")
			},
		},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		for _, c := range cases {
			t.Run(c.file+c.encoding, func(t *testing.T) {
				data := exactFixture(t, c.file)
				got, restID := s.uploadBoth(t, tok, c.file, data, c.encoding)
				got.ID = ""
				if !reflect.DeepEqual(got, c.want) {
					t.Fatalf("upload learned %+v,\n want %+v", got, c.want)
				}
				for _, cut := range c.cuts {
					s.checkCut(t, tok, restID, cut)
				}
				// The object is stored as received, labelled with its charset.
				code, hdr, body := s.call(t, "GET", "/api/v1/files/"+restID+"/content", tok, "", nil)
				wantType := "text/csv; charset=" + c.want.Encoding
				if code != 200 || body != string(data) || hdr.Get("Content-Type") != wantType {
					t.Fatalf("download = %d %s (%d bytes), want %s and the uploaded bytes", code, hdr.Get("Content-Type"), len(body), wantType)
				}
			})
		}
	})
}

// A multipart REST upload states the encoding in a form field.
func TestExactDataMultipartEncoding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("encoding", "macintosh")
		fw, _ := mw.CreateFormFile("file", "mac.csv")
		fw.Write(exactFixture(t, "macroman_lf.csv"))
		mw.Close()
		code, _, body := s.call(t, "POST", "/api/v1/files", tok, mw.FormDataContentType(), &buf)
		var f exactFile
		if code != http.StatusCreated || json.Unmarshal([]byte(body), &f) != nil || f.Encoding != "macintosh" || *f.Columns[1].Max != "it’s 6–18 ft" {
			t.Fatalf("multipart upload = %d %s", code, body)
		}
	})
}

// The legacy page shows a file's content as text: decoded as its cells are.
func TestExactDataLegacyContent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		for name, want := range map[string]string{
			"macroman_cr.csv":      "id,desc\r1,it’s 6–18 ft\r2,“café”\r",
			"windows1252_late.csv": "Café,1\n",
		} {
			data := exactFixture(t, name)
			code, _, body := s.call(t, "POST", "/api/v1/files?name="+name, tok, "text/csv", bytes.NewReader(data))
			if code != http.StatusCreated {
				t.Fatalf("upload = %d %s", code, body)
			}
			code, _, body = s.call(t, "GET", "/api/list_cutter/fetch_saved_file/"+mustID(t, body), tok, "", nil)
			var f struct{ Content string }
			if code != 200 || !utf8.ValidString(body) || json.Unmarshal([]byte(body), &f) != nil || !strings.HasSuffix(f.Content, want) {
				t.Fatalf("%s: fetch = %d, content ends %q, want %q", name, code, f.Content[max(0, len(f.Content)-40):], want)
			}
		}
	})
}

// An encoding the server does not know, or bytes a stated encoding cannot
// hold, are the caller's mistake: BAD_USER_INPUT, and nothing is stored.
func TestExactDataBadEncodings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		late := exactFixture(t, "windows1252_late.csv")
		for _, c := range []struct {
			encoding, field, msg string
		}{
			{"klingon", "encoding", "unknown or unsupported encoding"},
			{strings.Repeat("x", 1000), "encoding", "unknown or unsupported encoding: a name of 1000 bytes"},
			{"utf-8", "file", fmt.Sprintf("the file is not valid UTF-8: the byte 0xE9 at byte offset %d", bytes.IndexByte(late, 0xE9))},
		} {
			r := s.upload(t, tok, `mutation($f: Upload!, $enc: String) { uploadFile(file: $f, encoding: $enc) { id } }`,
				map[string]any{"enc": c.encoding}, "f", "x.csv", string(late))
			if r.code() != "BAD_USER_INPUT" || r.Errors[0].Extensions["field"] != c.field || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Errorf("GraphQL upload stating %s: %+v", c.encoding, r.Errors)
			}
			code, _, body := s.call(t, "POST", "/api/v1/files?encoding="+c.encoding, tok, "text/csv", bytes.NewReader(late))
			if code != 400 || !strings.Contains(body, "BAD_USER_INPUT") || !strings.Contains(body, c.msg) {
				t.Errorf("REST upload stating %s = %d %s", c.encoding, code, body)
			}
		}
		// A multipart REST upload may state it in a form field.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("encoding", "klingon")
		fw, _ := mw.CreateFormFile("file", "x.csv")
		fw.Write(late)
		mw.Close()
		if code, _, body := s.call(t, "POST", "/api/v1/files", tok, mw.FormDataContentType(), &buf); code != 400 || !strings.Contains(body, "klingon") {
			t.Errorf("multipart upload stating klingon = %d %s", code, body)
		}
		var list struct{ Files struct{ Edges []any } }
		s.ok(t, tok, `{ files(first: 10) { edges { cursor } } }`, nil, &list)
		if len(list.Files.Edges) != 0 {
			t.Fatalf("%d files stored", len(list.Files.Edges))
		}
	})
}

// A file stored before uploads were checked to the last byte has no read
// issues and a label that rests on its first 64 KiB. It is read by the
// rules it was profiled with, and nothing the server shows of it is
// invalid UTF-8.
func TestExactDataFilesStoredBefore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newServer(t, db, nil)
		tok := s.register(t, "ada").AccessToken
		data := append(exactFixture(t, "windows1252_late.csv"), "\"p\"q\",2\n"...)
		code, _, body := s.call(t, "POST", "/api/v1/files?name=old.csv", tok, "text/csv", bytes.NewReader(data))
		if code != http.StatusCreated {
			t.Fatalf("upload = %d %s", code, body)
		}
		id := mustID(t, body)
		// What the row of such a file holds: a utf-8 label, no counts.
		if _, err := db.ExecContext(t.Context(), `UPDATE files SET encoding = 'utf-8', row_count = 6002,
			short_rows = NULL, long_rows = NULL, repaired_rows = NULL WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		var page struct {
			File struct {
				Encoding   string
				ReadIssues *readIssues
				Rows       struct {
					Edges []struct{ Node struct{ Values []string } }
				}
			}
		}
		s.rawGQL(t, tok, `query($id: ID!) { file(id: $id) { encoding readIssues { shortRows }
			rows(first: 5, whereSql: "n IN (1, 2) AND name < 'r'") { edges { node { values } } } } }`, map[string]any{"id": id}, &page)
		got := page.File.Rows.Edges
		if page.File.ReadIssues != nil || len(got) != 2 || got[0].Node.Values[0] != "Café" || got[1].Node.Values[0] != `p"q` {
			t.Fatalf("old file read as %+v", page.File)
		}
		code, hdr, cut := s.call(t, "POST", "/api/v1/files/"+id+"/cut", tok, "application/json", strings.NewReader(`{"whereSql":"n = 2 AND name < 'r'"}`))
		if code != 200 || !utf8.ValidString(cut) || cut != "name,n\n\"p\"\"q\",2\n" || hdr.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("cut = %d %s %q", code, hdr.Get("Content-Type"), cut)
		}
		code, hdr, _ = s.call(t, "GET", "/api/v1/files/"+id+"/content", tok, "", nil)
		if code != 200 || hdr.Get("Content-Type") != "text/csv" {
			t.Fatalf("download of an unchecked file: %d %s, want no charset", code, hdr.Get("Content-Type"))
		}
		code, _, body = s.call(t, "GET", "/api/list_cutter/fetch_saved_file/"+id, tok, "", nil)
		if code != 200 || !utf8.ValidString(body) || !strings.Contains(body, `Café,1\n`) {
			t.Fatalf("legacy fetch = %d, valid UTF-8 %v", code, utf8.ValidString(body))
		}
	})
}
