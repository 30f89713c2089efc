// Package csvio is the CSV core of the server: it sniffs the dialect and
// encoding of uploaded bytes, reads records in one streaming pass, profiles
// columns, and writes RFC 4180 output. Memory stays bounded: nothing ever
// holds a whole file, only a read buffer that grows with the longest record
// (at most 16 MiB, see below).
//
// # Encodings
//
// Sniff recognises "utf-8-bom" (EF BB BF), "utf-16le" (FF FE) and
// "utf-16be" (FE FF) by their byte order mark. Without a BOM, a prefix that
// is valid UTF-8 (a multi-byte character cut by the end of the prefix is
// tolerated) is "utf-8", anything else is "windows-1252", which also decodes
// printable ISO-8859-1 text correctly. NUL bytes, or more than 2 + 1% control
// bytes other than tab, CR and LF, make the input "not a CSV file". UTF-16
// without a BOM therefore counts as binary.
//
// Reader passes UTF-8 bytes through untouched (no transform layer, no
// validation: invalid sequences after the sniffed prefix reach the caller
// as they are) and decodes the other encodings to UTF-8 with
// golang.org/x/text. A leading BOM is always stripped.
//
// # Delimiters and line endings
//
// The delimiter is one of , ; TAB |. Sniff picks the candidate whose field
// count is most consistent over the first 20 records (the most frequent
// count of at least 2 fields scores +1 per record that has it and -1 per
// record that does not); ties and single-column files give a comma.
// LF, CRLF and CR-only line endings are all accepted, even mixed.
//
// # Records
//
// Fully blank lines (nothing between two line breaks) are skipped; a line
// holding only spaces or delimiters is a record. The first record is the
// header: names are trimmed, a blank name becomes "column_N" (N is the
// 1-based position) and a repeated name gets "_2", "_3"... (skipping
// suffixes already used by another column) so that every name is unique.
// Data records are normalised to the header's width: missing cells become
// "" (which means NULL) and cells beyond the header are dropped; both kinds
// of record are counted by Reader.Ragged.
//
// # Quotes and malformed input
//
// A field is quoted only if its first byte is a double quote. Inside it,
// delimiters and line breaks are data and "" is one quote. Line breaks
// inside quotes are kept byte for byte (CRLF is not rewritten to LF).
// Malformed input never aborts reading; the rules match encoding/csv with
// LazyQuotes:
//
//   - a quote inside an unquoted field is an ordinary character (a"b is a"b);
//   - in a quoted field, a quote that is followed by neither another quote,
//     the delimiter, a line break nor the end of input is kept as a literal
//     quote and the field goes on ("a"b",c is the field a"b then c);
//   - a quoted field still open at the end of input runs to the end of input.
//
// Because a stray opening quote could otherwise swallow the rest of a huge
// file into memory, a record longer than 16 MiB is read again with every
// quote taken literally, so that it ends at its first line break; reading
// then goes on normally from the next line. A single line longer than
// 16 MiB is an error (ErrRecordTooLarge), and the only one malformed input
// can cause.
//
// # Type inference
//
// Profiler gives every column the narrowest type that all of its non-empty
// cells fit, exactly as written (no trimming):
//
//   - INTEGER: optional sign and decimal digits that fit in an int64.
//   - FLOAT: [+-] digits [. digits] [e[+-]digits], also .5 and 5.;
//     no NaN, Inf, hex or digit separators. Integers are floats too.
//   - Numbers with a leading zero (007, 01.5) are not numeric: they are
//     almost always codes (ZIP, phone, article numbers) whose zeros matter.
//   - BOOLEAN: true false yes no t f y n, any case. 0 and 1 are integers.
//   - DATETIME, one family per column (all cells must share it):
//     ISO 2006-01-02 or 2006/01/02, optionally followed by a space or T and
//     15:04, 15:04:05 or 15:04:05.999999999, then optionally Z, ±07:00,
//     ±0700 or ±07 (RFC 3339 is a special case);
//     US 01/02/2006 (month first), European 02/01/2006 (day first) and
//     German 02.01.2006, where day and month may have one digit, optionally
//     followed by a space and 15:04 or 15:04:05 (with fraction) and an
//     optional AM/PM. When every slash date reads both ways, US wins.
//     A 12-hour clock (3:04 PM) is accepted in every family.
//     Values without a zone compare as if they were UTC. The family is
//     recorded in Column.DateFormat ("iso", "us", "eu" or "de"), and
//     ParseTime reads a cell of it: the filter package uses the same
//     parser, so a DATETIME column's cells always compare chronologically.
//   - TEXT otherwise, and for a column with no non-empty cell.
//
// Min and Max compare numerically for INTEGER and FLOAT, chronologically
// for DATETIME and byte-wise for BOOLEAN and TEXT, and keep the original
// cell text. A whitespace-only cell is not empty: it counts as TEXT.
package csvio
