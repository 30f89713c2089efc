package filter

import (
	"fmt"
	"strings"
	"testing"
)

func orChain(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "a = 1"
	}
	return strings.Join(parts, " OR ")
}

func inList(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprint(i)
	}
	return "a IN (" + strings.Join(items, ",") + ")"
}

func TestSQLLimits(t *testing.T) {
	for _, c := range []struct {
		name, src, want string // want "" = must parse
	}{
		{"text at limit", "a = '" + strings.Repeat("x", MaxTextLen-6) + "'", ""},
		{"text over limit", "a = '" + strings.Repeat("x", MaxTextLen-5) + "'", "filter text is 65537 bytes, longer than the limit of 65536"},
		{"nodes at limit", orChain(MaxNodes - 1), ""}, // 999 comparisons + 1 OR
		{"nodes over limit", orChain(MaxNodes), "error at position 8992: more than 1000 conditions"},
		{"NOT depth at limit", strings.Repeat("NOT ", MaxDepth) + "a = 1", ""},
		{"NOT depth over limit", strings.Repeat("NOT ", MaxDepth+1) + "a = 1", "error at position 257: nesting deeper than the limit of 64"},
		{"paren depth at limit", strings.Repeat("(", MaxDepth) + "a = 1" + strings.Repeat(")", MaxDepth), ""},
		{"paren depth over limit", strings.Repeat("(", MaxDepth+1) + "a = 1" + strings.Repeat(")", MaxDepth+1), "error at position 65: nesting deeper than the limit of 64"},
		{"huge paren depth", strings.Repeat("(", MaxTextLen), "error at position 65: nesting deeper than the limit of 64"},
		// AND inside OR inside parentheses: the AST is deeper than the parentheses.
		{"AST depth over limit", strings.Repeat("a = 1 OR a = 1 AND (", 33) + "a = 1" + strings.Repeat(")", 33), "nesting deeper than the limit of 64"},
		{"IN items at limit", inList(MaxInItems), ""},
		{"IN items over limit", inList(MaxInItems/2) + " OR " + inList(MaxInItems/2+1), "error at position 47797: more than 10000 IN items in total"},
	} {
		e, err := ParseSQL(c.src)
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			} else if _, err := Compile(e, []Column{{Name: "a"}}); err != nil {
				t.Errorf("%s: Compile: %v", c.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: no error, want %s", c.name, c.want)
			continue
		}
		asError(t, err)
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, err, c.want)
		}
	}
}

// TestCompileLimits: hand-built trees get the same limits.
func TestCompileLimits(t *testing.T) {
	leaf := &Compare{Col: Ref{Name: "a"}, Op: OpEq, Value: Literal{Text: "1"}}
	var deep Expr = leaf
	for i := 0; i < MaxDepth+1; i++ {
		deep = &Not{Arg: deep}
	}
	wide := &And{}
	for i := 0; i < MaxNodes; i++ {
		wide.Args = append(wide.Args, leaf)
	}
	big := &In{Col: Ref{Name: "a"}, Values: make([]Literal, MaxInItems+1)}
	cyclic := &Not{}
	cyclic.Arg = cyclic
	for name, c := range map[string]struct {
		e    Expr
		want string
	}{
		"depth":  {deep, "nesting deeper than the limit of 64"},
		"nodes":  {wide, "more than 1000 conditions"},
		"items":  {big, "more than 10000 IN items in total"},
		"cyclic": {cyclic, "nesting deeper than the limit of 64"},
	} {
		_, err := Compile(c.e, []Column{{Name: "a"}})
		if err == nil || asError(t, err).Error() != c.want {
			t.Errorf("%s: got %v, want %s", name, err, c.want)
		}
	}
}
