package filter

import (
	"strconv"
)

// Error is the one error type of this package: it says what is wrong (Msg)
// and where: Pos is the 1-based byte position in SQL text (0 when the filter
// did not come from text), Path is the GraphQL input path such as
// "where.and[1].or[0]" or, for the legacy syntax, the column name.
type Error struct {
	Pos  int
	Path string
	Msg  string

	// kind only chooses the wording of Error(); it is unexported so that
	// callers build and inspect errors through the three public fields.
	kind errKind
}

type errKind uint8

const (
	errOther  errKind = iota
	errSyntax         // SQL text does not parse
	errLegacy         // Path is a legacy column name
)

// Error formats the message with its location:
//
//	syntax error at position 12: expected a value after ">="
//	error at position 1: unknown column "agee" (columns: "age", "city")
//	where.and[1]: column "age" needs exactly one operator
//	column "age": cannot understand the filter "~ 3"
func (e *Error) Error() string {
	switch {
	case e.kind == errLegacy:
		return "column " + strconv.Quote(e.Path) + ": " + e.Msg
	case e.Path != "":
		return e.Path + ": " + e.Msg
	case e.Pos > 0 && e.kind == errSyntax:
		return "syntax error at position " + strconv.Itoa(e.Pos) + ": " + e.Msg
	case e.Pos > 0:
		return "error at position " + strconv.Itoa(e.Pos) + ": " + e.Msg
	}
	return e.Msg
}

func syntaxErr(pos int, msg string) *Error { return &Error{Pos: pos, Msg: msg, kind: errSyntax} }

func limitErr(pos int, msg string) *Error { return &Error{Pos: pos, Msg: msg} }

func pathErr(path, msg string) *Error { return &Error{Path: path, Msg: msg} }

func legacyErr(col, msg string) *Error { return &Error{Path: col, Msg: msg, kind: errLegacy} }
