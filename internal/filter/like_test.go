package filter

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refLike is an obviously-correct (and exponential) reference matcher on
// runes: pattern tokens are '%', '_' or a literal rune.
func refLike(pattern, s string, fold bool) bool {
	type tok struct {
		kind byte // '%', '_' or 'l'
		r    rune
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch pr[i] {
		case '\\':
			if i+1 < len(pr) {
				i++
			}
			toks = append(toks, tok{'l', pr[i]})
		case '%':
			toks = append(toks, tok{kind: '%'})
		case '_':
			toks = append(toks, tok{kind: '_'})
		default:
			toks = append(toks, tok{'l', pr[i]})
		}
	}
	sr := []rune(s)
	eq := func(a, b rune) bool {
		if fold {
			return strings.EqualFold(string(a), string(b))
		}
		return a == b
	}
	var rec func(ti, si int) bool
	rec = func(ti, si int) bool {
		if ti == len(toks) {
			return si == len(sr)
		}
		switch toks[ti].kind {
		case '%':
			for k := si; k <= len(sr); k++ {
				if rec(ti+1, k) {
					return true
				}
			}
			return false
		case '_':
			return si < len(sr) && rec(ti+1, si+1)
		}
		return si < len(sr) && eq(sr[si], toks[ti].r) && rec(ti+1, si+1)
	}
	return rec(0, 0)
}

func TestLikeAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	patAlpha := []string{"a", "b", "A", "%", "%", "_", `\%`, `\_`, "é", "É", "ß", "ẞ", "k", "\u212a", "ab"}
	strAlpha := []string{"a", "b", "A", "B", "%", "_", "é", "É", "ß", "ẞ", "k", "K", "\u212a", "x"}
	for i := 0; i < 200000; i++ {
		var pb, sb strings.Builder
		for j := r.IntN(7); j > 0; j-- {
			pb.WriteString(patAlpha[r.IntN(len(patAlpha))])
		}
		for j := r.IntN(9); j > 0; j-- {
			sb.WriteString(strAlpha[r.IntN(len(strAlpha))])
		}
		p, s := pb.String(), sb.String()
		for _, fold := range []bool{false, true} {
			if got, want := compileLike(p, fold).match(s), refLike(p, s, fold); got != want {
				t.Fatalf("LIKE %q (fold %v) on %q: got %v, want %v", p, fold, s, got, want)
			}
		}
	}
}

func TestLikeShapes(t *testing.T) {
	for _, c := range []struct {
		pattern string
		shape   likeShape
	}{
		{"abc", shapeExact}, {"", shapeExact}, {"abc%", shapePrefix}, {"%abc", shapeSuffix},
		{"%abc%", shapeContains}, {"%%abc%%", shapeContains}, {"%", shapeAny}, {"%%", shapeAny},
		{"a%c", shapeGeneral}, {"a_c", shapeGeneral}, {`a\%`, shapeExact}, {"%a%b%", shapeGeneral},
	} {
		if got := compileLike(c.pattern, false).shape; got != c.shape {
			t.Errorf("shape of %q = %d, want %d", c.pattern, got, c.shape)
		}
	}
}

// TestLikeNoBlowup: patterns that make backtracking matchers exponential
// stay fast, which a per-row cost must.
func TestLikeNoBlowup(t *testing.T) {
	s := strings.Repeat("a", 10000)
	start := time.Now()
	for _, p := range []string{"%a%a%a%a%a%a%a%a%a%a%b", "%a_a_a_a%a_a%b", "%" + strings.Repeat("a%", 100) + "b"} {
		for _, fold := range []bool{false, true} {
			if compileLike(p, fold).match(s) {
				t.Errorf("%q should not match", p)
			}
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("pathological patterns took %v", d)
	}
}

func TestLikeInvalidUTF8(t *testing.T) {
	// Invalid bytes only match themselves, and nothing panics.
	for _, c := range []struct {
		p, s string
		fold bool
		want bool
	}{
		{"\xff", "\xff", true, true},
		{"\xff", "\xfe", true, false},
		{"_", "\xff", false, true},
		{"%_", "a\xff", true, true},
		{"a%\xff", "ab\xff", true, true},
	} {
		if got := compileLike(c.p, c.fold).match(c.s); got != c.want {
			t.Errorf("%q on %q fold=%v: got %v, want %v", c.p, c.s, c.fold, got, c.want)
		}
	}
	if !utf8.ValidString("é") {
		t.Fatal("sanity")
	}
}
