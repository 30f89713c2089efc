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
// Comparisons follow SQL's type affinity, modelled on SQLite's: the
// column's inferred kind and the way the constant is written decide how a
// cell compares. In SQL text a constant is a number (30, -1.5e3, +7), text
// ('30', 'NYC': single-quoted) or TRUE/FALSE. The typed input's values are
// all strings: one that type inference would count as a number (2134,
// -1.5, 1e3, but not 02134, " 7" or 1e400) is a number, any other is text,
// and it renders as SQL that way. With ModeAuto (SQL and the typed input):
//
//   - KindNumber (numeric affinity): a constant, quoted or not, that reads
//     as a number compares numerically: `age = 30`, `age = '30'` and
//     `age = ' 030 '` are one filter. Cells and such constants are read with
//     spaces around them ignored and leading zeros allowed, as SQLite's
//     numeric affinity converts text. TRUE and FALSE are 1 and 0. A text
//     constant that is no number sorts after every number, as text does
//     after numbers in SQLite: `age < 'abc'` matches every age,
//     `age = 'abc'` none.
//   - KindText (text affinity): a quoted constant is text, compared
//     byte-wise, and never as a number: on a column of ZIP codes
//     `zip = '02134'` matches 02134 and not 2134, and `zip < '10'` is the
//     text order ('09' < '10' < '9'). A number constant compares
//     numerically with the cells that are numbers by type inference's rule
//     (no spaces, no leading zeros) and byte-wise, as written, with the
//     others: `zip = 2134` matches 2134 and 2134.0 but not 02134, and
//     `amount > 100` still works on a column that holds a few N/A cells.
//     (Here we depart from SQLite, which would compare the number as text:
//     a CSV column is TEXT as soon as one cell is not a number.)
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
//
// Numbers compare exactly, never through float64: whole numbers that fit
// an int64 as int64s, longer ones by their decimal digits, numbers written
// with a fraction or an exponent as float64s, and a whole number against a
// float by their exact values, as SQLite does (9007199254740993 is neither
// equal to 9007199254740992 nor to the float 9007199254740993.0, which is
// 9007199254740992). What a number is has one rule, csvio.ParseNumber, for
// the profile and the filter alike: decimal with an optional sign,
// fraction and exponent; NaN, Inf, hex, digit separators and values beyond
// float64's range (1e400) are text.
//
// An uncomparable cell is unequal to the constant, and neither less nor
// greater: =, <, <=, >, >=, IN and BETWEEN are false, while !=, NOT IN and
// NOT BETWEEN, being exact complements on non-NULL cells, are true. Text
// comparison is byte-wise and case-sensitive on the untrimmed cell; times
// and booleans are read after trimming spaces. IN follows the same rules
// item by item (`zip IN (2134, '02134')` matches both cells).
//
// The legacy syntax keeps the old server's rules, recorded on the node as a
// Mode: <, <=, >, >= and BETWEEN are always numeric (ModeNumber: a cell
// that is not a number does not match), =, !=, IN always compare plain
// strings (ModeText), whatever the column kind. Cells and constants are
// read as numbers the way the old server's float() read them, spaces and
// leading zeros allowed (" 08 " > 7). Where it differs from the old server:
// numbers compare exactly instead of as floats (so > 9007199254740992 keeps
// 9007199254740993), and NaN, Inf, 1e400 and digit separators are not
// numbers (a clause with one is an error, a cell with one does not match).
// SQL text cannot say "forced", so SQL renders these nodes as the closest
// ordinary comparison, whose meaning then follows the column kind
// (identical for numbers on a KindNumber column and for non-numeric text on
// a KindText column).
//
// Blank filters. SQL text that is empty or only spaces and line breaks is
// no filter: ParseSQL returns nil, which keeps every row.
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
