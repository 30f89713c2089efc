// Package filter is the row filter engine: one AST (Expr) and one
// evaluator, fed by three syntaxes:
//
//   - FromInput: the typed GraphQL input RowFilter (Input);
//   - ParseSQL: a SQL WHERE expression;
//   - FromLegacy: the old REST API's per-column clauses.
//
// A filter is compiled once per request (Compile: column names resolved to
// indexes, constants and LIKE patterns parsed) into a Predicate run per row,
// with no parsing, reflection or allocation per row in the common case.
// SQL renders any tree as canonical SQL text; Columns lists its columns.
//
// # Semantics (the same for all three syntaxes)
//
// NULL. An empty cell "" is NULL; a cell of spaces is not. IS NULL matches
// "" only, IS NOT NULL anything else. Every comparison (=, !=, <, <=, >,
// >=), IN, BETWEEN and LIKE is false on NULL, and so are their negated
// operator forms (!=, NOT IN, NOT BETWEEN, NOT LIKE, NOT ILIKE): as in SQL,
// `city != 'NYC'` does not match rows without a city.
//
// NOT. Logic is two-valued: the NOT keyword (and the typed input's not)
// simply negates, so `NOT age > 30` matches empty cells while
// `age <= 30` does not, and `NOT city IN ('a')` differs from
// `city NOT IN ('a')` exactly on NULL cells. We chose this over SQL's
// three-valued logic because it is what users of a row filter expect from
// "not", and it keeps the evaluator a plain boolean tree.
//
// Comparisons. A constant's meaning depends on its text only: `age = 30`
// and `age = '30'` are the same filter (the typed input's constants are all
// strings). With ModeAuto (SQL and the typed input), the column kind
// decides:
//
//   - KindNumber: if the constant is a number, compare numerically; a cell
//     that is not a number is "uncomparable". Otherwise compare as text.
//   - KindTime: cells are read with csvio.ParseTime in the column's date
//     format (Column.TimeFormat, the family type inference settled on:
//     "iso" 2006-01-02 or 2006/01/02 with optional time and zone, RFC 3339
//     included; "us" 01/02/2006, "eu" 02/01/2006 or "de" 02.01.2006 with
//     optional time; "" means "iso"), so every cell that made the column
//     DATETIME compares. If the constant is a time written in ISO form or
//     in the column's own format (`joined > '2020-01-31'` and
//     `joined > '01/31/2020'` are the same filter on a "us" column),
//     compare instants, zone-less times being UTC; a cell that is not a
//     time in the column's format is uncomparable. Otherwise text.
//   - KindBool: if the constant is true/false/yes/no/t/f/y/n/1/0 (any case),
//     compare booleans (false < true); other cells are uncomparable.
//     Otherwise text.
//   - KindText: numeric when both the cell and the constant are numbers,
//     byte-wise text otherwise, decided row by row ("10" > "9", "b" > "a").
//
// An uncomparable cell is unequal to the constant, and neither less nor
// greater: =, <, <=, >, >=, IN and BETWEEN are false, while !=, NOT IN and
// NOT BETWEEN, being exact complements on non-NULL cells, are true. Text
// comparison is byte-wise and case-sensitive on the untrimmed cell; numbers
// and times are read after trimming spaces. Numbers are decimal with an
// optional sign, fraction and exponent; NaN, Inf and hex are text.
//
// The legacy syntax keeps its own rules, recorded on the node as a Mode:
// <, <=, >, >= and BETWEEN are always numeric (ModeNumber: a cell that is
// not a number does not match), =, !=, IN always compare plain strings
// (ModeText), whatever the column kind. SQL text cannot say "forced", so SQL
// renders these nodes as the closest ordinary comparison, whose meaning then
// follows the column kind (identical for numbers on a KindNumber column and
// for non-numeric text on a KindText column).
//
// LIKE. % matches any run of characters, _ exactly one character (rune);
// a backslash escapes the next character (\% \_ \\). LIKE is case-sensitive,
// ILIKE folds case with Unicode simple folding. The cell is matched as is
// (untrimmed, whatever the column kind). Patterns compile to a matcher that
// never backtracks: cost is at worst proportional to cell length times
// pattern length. The typed input's contains/startsWith/endsWith are
// case-sensitive LIKE '%x%', 'x%', '%x' with x's wildcards escaped.
//
// Limits. Filter text over MaxTextLen bytes, more than MaxNodes nodes,
// nesting deeper than MaxDepth or more than MaxInItems IN items in total are
// rejected with an *Error, so hostile input costs bounded time and memory.
//
// Errors. Every error is an *Error saying what is wrong and where: a byte
// position in SQL text, a path in the typed input, a column for legacy
// clauses.
package filter
