package files

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestDecodeTags(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: []string{}},
		{in: "null", want: []string{}},
		{in: "[]", want: []string{}},
		{in: " [ ] ", want: []string{}},
		{in: `["a"]`, want: []string{"a"}},
		{in: `["source","q4"]`, want: []string{"source", "q4"}},
		{in: `["source", "q4"]`, want: []string{"source", "q4"}}, // PostgreSQL's jsonb spacing
		{in: `["a,b", "c"]`, want: []string{"a,b", "c"}},
		{in: `["été", "東京"]`, want: []string{"été", "東京"}},
		{in: `["say \"hi\"", "tab\tx"]`, want: []string{`say "hi"`, "tab\tx"}},
		{in: `["\u00e9"]`, want: []string{"é"}},
		{in: `[""]`, want: []string{""}},
		{in: `["a",]`, wantErr: true},
		{in: `["a" "b"]`, wantErr: true},
		{in: `["a"`, wantErr: true},
		{in: `[1, 2]`, wantErr: true},
		{in: `{"a": 1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := decodeTags(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("decodeTags(%q) error %v, want error %v", tt.in, err, tt.wantErr)
			}
			if !tt.wantErr && !slices.Equal(got, tt.want) {
				t.Errorf("decodeTags(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !tt.wantErr && got == nil {
				t.Errorf("decodeTags(%q) = nil, want an empty list", tt.in)
			}
		})
	}
}

// FuzzDecodeTags holds the fast path to encoding/json's answer.
func FuzzDecodeTags(f *testing.F) {
	for _, s := range []string{`["a","b"]`, `["a", "b"]`, `[]`, `["\"q\""]`, "[\"\xff\"]", `["a\u0000"]`, `[ "x" , "y" ]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := splitTags(s)
		if !ok {
			return
		}
		var want []string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatalf("splitTags(%q) = %q, but encoding/json refuses it: %v", s, fast, err)
		}
		if !slices.Equal(fast, want) {
			t.Fatalf("splitTags(%q) = %q, encoding/json reads %q", s, fast, want)
		}
	})
}
