package filter

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ---- Three syntaxes, one meaning.

var propCols = []Column{
	{Name: "n", Kind: KindNumber},
	{Name: "s", Kind: KindText}, // non-numeric words: legacy = and IN agree with SQL there
	{Name: "w", Kind: KindText}, // LIKE fodder
}

var sWords = []string{"a", "b", "c", "ab", "NYC", "LA", "New York", "it's", "x,y", "say \"hi\""}

func randNCell(r *rand.Rand) string {
	switch k := r.IntN(10); {
	case k == 0:
		return ""
	case k < 7:
		return fmt.Sprint(r.IntN(21) - 10)
	case k == 7:
		return fmt.Sprintf("%.1f", r.Float64()*20-10)
	default:
		return []string{"abc", "  ", " 3 ", "1e1", "-0", "Inf"}[r.IntN(6)]
	}
}

func randWCell(r *rand.Rand) string {
	alpha := []string{"a", "b", "A", "%", "_", "é", `\`}
	var b strings.Builder
	for i := r.IntN(6); i > 0; i-- {
		b.WriteString(alpha[r.IntN(len(alpha))])
	}
	return b.String()
}

func randTable(r *rand.Rand, n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		s := ""
		if r.IntN(8) > 0 {
			s = sWords[r.IntN(len(sWords))]
		}
		rows[i] = []string{randNCell(r), s, randWCell(r)}
	}
	return rows
}

// randPattern builds a LIKE pattern over the w alphabet, with escapes.
func randPattern(r *rand.Rand) string {
	alpha := []string{"a", "b", "A", "%", "%", "_", `\%`, `\_`, "é"}
	var b strings.Builder
	for i := r.IntN(5); i > 0; i-- {
		b.WriteString(alpha[r.IntN(len(alpha))])
	}
	return b.String()
}

// legacyItem writes an IN item the legacy way: bare when possible, else
// quoted with the quote doubled.
func legacyItem(r *rand.Rand, v string) string {
	if r.IntN(2) == 0 && !strings.ContainsAny(v, `,'"`) {
		return v
	}
	q := []string{"'", `"`}[r.IntN(2)]
	return q + strings.ReplaceAll(v, q, q+q) + q
}

// sqlString quotes a SQL string literal.
func sqlString(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

// triple is one condition written in the three syntaxes.
type triple struct {
	col    string
	legacy string
	sql    string
	input  *Input
}

func randTriple(r *rand.Rand, col string) triple {
	c := ptr(col)
	switch col {
	case "n":
		k := fmt.Sprint(r.IntN(21) - 10)
		switch r.IntN(5) {
		case 0:
			return triple{col, "> " + k, "n > " + k, &Input{Column: c, Gt: ptr(k)}}
		case 1:
			return triple{col, ">= '" + k + "'", "n >= " + k, &Input{Column: c, Gte: ptr(k)}}
		case 2:
			return triple{col, "< " + k, "n < " + k, &Input{Column: c, Lt: ptr(k)}}
		case 3:
			return triple{col, "<=" + k, "n <= '" + k + "'", &Input{Column: c, Lte: ptr(k)}}
		default:
			lo, hi := fmt.Sprint(r.IntN(21)-10), fmt.Sprint(r.IntN(21)-10)
			return triple{col, "between " + lo + " AND " + hi, "n BETWEEN " + lo + " AND " + hi,
				&Input{Column: c, Between: []string{lo, hi}}}
		}
	case "s":
		v := sWords[r.IntN(len(sWords))]
		switch r.IntN(4) {
		case 0:
			op := []string{"=", "=="}[r.IntN(2)]
			return triple{col, op + " " + legacyQuoteValue(r, v), "s = " + sqlString(v), &Input{Column: c, Eq: ptr(v)}}
		case 1:
			return triple{col, "!= " + legacyQuoteValue(r, v), "s <> " + sqlString(v), &Input{Column: c, Ne: ptr(v)}}
		default:
			var vals, leg, sq []string
			for i := 1 + r.IntN(4); i > 0; i-- {
				v := sWords[r.IntN(len(sWords))]
				vals = append(vals, v)
				leg = append(leg, legacyItem(r, v))
				sq = append(sq, sqlString(v))
			}
			return triple{col, "IN (" + strings.Join(leg, ", ") + ")", "s IN (" + strings.Join(sq, ", ") + ")", &Input{Column: c, In: vals}}
		}
	default: // w
		p := randPattern(r)
		switch r.IntN(5) {
		case 0:
			return triple{col, "LIKE " + sqlString(p), "w LIKE " + sqlString(p), &Input{Column: c, Like: ptr(p)}}
		case 1:
			// NOT LIKE is false on NULL, the input's not is not: add isNull: false.
			return triple{col, "not like " + sqlString(p), "w NOT LIKE " + sqlString(p),
				&Input{And: []*Input{{Not: &Input{Column: c, Like: ptr(p)}}, {Column: c, IsNull: ptr(false)}}}}
		default:
			x := randWCell(r)
			e := escapeLike(x)
			switch r.IntN(3) {
			case 0:
				return triple{col, "LIKE " + sqlString("%"+e+"%"), "w LIKE " + sqlString("%"+e+"%"), &Input{Column: c, Contains: ptr(x)}}
			case 1:
				return triple{col, "LIKE " + sqlString(e+"%"), "w LIKE " + sqlString(e+"%"), &Input{Column: c, StartsWith: ptr(x)}}
			}
			return triple{col, "LIKE " + sqlString("%"+e), "w LIKE " + sqlString("%"+e), &Input{Column: c, EndsWith: ptr(x)}}
		}
	}
}

// legacyQuoteValue writes a legacy = value: bare, or in either quotes (the
// legacy syntax strips one pair and does not unescape inside).
func legacyQuoteValue(r *rand.Rand, v string) string {
	switch r.IntN(3) {
	case 0:
		if !strings.HasPrefix(v, "'") && !strings.HasPrefix(v, `"`) {
			return v
		}
	case 1:
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

func selected(p Predicate, rows [][]string) []int {
	var out []int
	for i, row := range rows {
		if p(row) {
			out = append(out, i)
		}
	}
	return out
}

func TestThreeSyntaxesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 1))
	nonTrivial := 0
	for iter := 0; iter < 2000; iter++ {
		rows := randTable(r, 100)
		cols := []string{"n", "s", "w"}
		r.Shuffle(len(cols), func(i, j int) { cols[i], cols[j] = cols[j], cols[i] })
		cols = cols[:1+r.IntN(3)]

		legacy := map[string]string{}
		var sqls []string
		var inputs []*Input
		for _, col := range cols {
			tr := randTriple(r, col)
			legacy[col] = tr.legacy
			sqls = append(sqls, "("+tr.sql+")")
			inputs = append(inputs, tr.input)
		}
		in := inputs[0]
		if len(inputs) > 1 {
			in = &Input{And: inputs}
		}
		sqlText := strings.Join(sqls, " AND ")

		eL, err := FromLegacy(legacy)
		if err != nil {
			t.Fatalf("FromLegacy(%q): %v", legacy, err)
		}
		eS, err := ParseSQL(sqlText)
		if err != nil {
			t.Fatalf("ParseSQL(%q): %v", sqlText, err)
		}
		eI, err := FromInput(in)
		if err != nil {
			t.Fatalf("FromInput: %v (sql %s)", err, sqlText)
		}
		gotL := selected(mustCompile(t, eL, propCols), rows)
		gotS := selected(mustCompile(t, eS, propCols), rows)
		gotI := selected(mustCompile(t, eI, propCols), rows)
		if !slices.Equal(gotL, gotS) || !slices.Equal(gotS, gotI) {
			for _, i := range symDiff(gotL, gotS, gotI) {
				t.Logf("row %q", rows[i])
			}
			t.Fatalf("syntaxes disagree\nlegacy %q -> %s\nsql    %s\ninput  %s\nrows legacy %v\nrows sql    %v\nrows input  %v",
				legacy, SQL(eL), sqlText, SQL(eI), gotL, gotS, gotI)
		}
		if len(gotS) > 0 && len(gotS) < len(rows) {
			nonTrivial++
		}
	}
	// The test only means something if filters keep some rows and drop others.
	if nonTrivial < 1000 {
		t.Errorf("only %d of 2000 random filters were selective", nonTrivial)
	}
}

func symDiff(lists ...[]int) []int {
	count := map[int]int{}
	for _, l := range lists {
		for _, i := range l {
			count[i]++
		}
	}
	var out []int
	for i, c := range count {
		if c != len(lists) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// ---- SQL round trip: ParseSQL(SQL(e)) ≡ e on random trees and rows.

var rtCols = append(slices.Clone(testCols),
	Column{Name: "select", Kind: KindText},
	Column{Name: "a b", Kind: KindNumber},
	Column{Name: `x"y`, Kind: KindTime},
	Column{Name: "IN", Kind: KindBool},
	Column{Name: "", Kind: KindText},
	Column{Name: "Ünï", Kind: KindText},
)

var cellPool = []string{"", "0", "1", "-2.5", "10", "abc", "ABC", "a%b", "a_b", "true", "no", "2024-01-01",
	"2024-01-01T12:00:00Z", " 7 ", "é", "\u212a", "k", "it's", `x\%y`, "1e1", "  "}

func randLit(r *rand.Rand) Literal {
	switch r.IntN(4) {
	case 0:
		return Literal{Text: []string{"0", "1", "-2.5", "10", "1e1", ".5", "-0"}[r.IntN(7)], Type: LitNumber}
	case 1:
		return Literal{Text: []string{"true", "false"}[r.IntN(2)], Type: LitBool}
	}
	return Literal{Text: cellPool[r.IntN(len(cellPool))]}
}

func randExpr(r *rand.Rand, depth int) Expr {
	col := Ref{Name: rtCols[r.IntN(len(rtCols))].Name}
	k := r.IntN(12)
	if depth <= 0 {
		k = 3 + r.IntN(9)
	}
	switch k {
	case 0:
		args := make([]Expr, r.IntN(4))
		for i := range args {
			args[i] = randExpr(r, depth-1)
		}
		return &And{Args: args}
	case 1:
		args := make([]Expr, r.IntN(4))
		for i := range args {
			args[i] = randExpr(r, depth-1)
		}
		return &Or{Args: args}
	case 2:
		return &Not{Arg: randExpr(r, depth-1)}
	case 3:
		return &Const{Value: r.IntN(2) == 0}
	case 4, 5:
		return &Compare{Col: col, Op: Op(1 + r.IntN(6)), Value: randLit(r)}
	case 6:
		vals := make([]Literal, r.IntN(4))
		for i := range vals {
			vals[i] = randLit(r)
		}
		return &In{Col: col, Values: vals, Negated: r.IntN(2) == 0}
	case 7:
		return &Between{Col: col, Low: randLit(r), High: randLit(r), Negated: r.IntN(2) == 0}
	case 8, 9:
		return &Like{Col: col, Pattern: []string{"a%", "%b", "%\u212a%", "_", `x\%y`, "%a_b%", "it''s%", "A%", "%"}[r.IntN(9)],
			Fold: r.IntN(2) == 0, Negated: r.IntN(2) == 0}
	default:
		return &IsNull{Col: col, Negated: r.IntN(2) == 0}
	}
}

func TestSQLRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 42))
	rows := make([][]string, 300)
	for i := range rows {
		rows[i] = make([]string, len(rtCols))
		for j := range rows[i] {
			rows[i][j] = cellPool[r.IntN(len(cellPool))]
		}
	}
	for iter := 0; iter < 3000; iter++ {
		e := randExpr(r, 4)
		text := SQL(e)
		back, err := ParseSQL(text)
		if err != nil {
			t.Fatalf("ParseSQL(SQL(%s)) = %v\ntext: %s", tree(e), err, text)
		}
		if again := SQL(back); again != text {
			t.Fatalf("SQL is not a fixed point:\n%s\n%s", text, again)
		}
		p1, p2 := mustCompile(t, e, rtCols), mustCompile(t, back, rtCols)
		for _, row := range rows {
			if p1(row) != p2(row) {
				t.Fatalf("round trip changed the meaning of %s\nreparsed %s\nrow %q", tree(e), tree(back), row)
			}
		}
	}
}
