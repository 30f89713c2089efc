// Package csvio is the CSV core of the server: it sniffs the dialect and
// encoding of uploaded bytes, reads records in one streaming pass, profiles
// columns, and writes RFC 4180 output. Memory stays bounded: nothing ever
// holds a whole file, only a read buffer that grows with the longest record
// (at most 16 MiB, see below). On several cores (GOMAXPROCS), Analyze
// cuts the records of a UTF-8 or 8-bit file at record ends into chunks of
// 512 KiB as they arrive, which that many workers parse and profile at
// once, and merges the profiles in file order (exactly the profile one
// reader makes): at most GOMAXPROCS+2 chunks are held, and at most 4 MiB
// while a record longer than a chunk is read. The bytes after the last
// full chunk, and every file on one core, in UTF-16 or in an encoding the
// caller stated, are parsed and profiled on two goroutines (the two take
// about the same time): the parser lends the profiler the buffers it read
// records from, at most four of them. At most three 128 KiB chunks wait
// for the UTF-8 check.
//
// # Encodings
//
// A byte order mark decides: "utf-8-bom" (EF BB BF), "utf-16le" (FF FE),
// "utf-16be" (FE FF). Without one, Analyze decides once it has seen the
// last byte, so the label is true for every byte of the file, not just for
// a prefix:
//
//   - "utf-8" when every byte is valid UTF-8 (RFC 3629);
//   - otherwise "macintosh" (Mac OS Roman) when every line break is a lone
//     CR, as classic Mac OS wrote them, and some byte reads as typographic
//     punctuation in Mac Roman (0xD5 ’, 0xD4 ‘, 0xD2 “, 0xD3 ”, 0xD0 –,
//     0xD1 —, 0xC9 …, 0xA5 •): a Mac Excel export;
//   - otherwise "windows-1252", which reads every byte: its five unassigned
//     bytes (0x81, 0x8D, 0x8F, 0x90, 0x9D) are the C1 controls of the same
//     number, as in the WHATWG Encoding Standard, never U+FFFD. It also reads
//     ISO-8859-1 text correctly.
//
// A file that mixes valid UTF-8 with bytes that are not is windows-1252:
// no single reading fits both, and this one loses no byte. A caller who
// knows better states the encoding (AnalyzeAs, LookupEncoding: utf-8,
// utf-16le, utf-16be, windows-1252, macintosh and their usual aliases); a
// stated or BOM-announced UTF-8 or UTF-16 that does not hold is an
// *EncodingError naming the first bad byte, never a silent U+FFFD.
//
// Deciding at the end costs no second read. Delimiters, quotes and line
// breaks are ASCII in all three candidate encodings, and a UTF-8
// multi-byte character never contains an ASCII byte, so records and cells
// have the same boundaries in every reading: Analyze parses the raw bytes
// while a census checks UTF-8 beside it (inline until the first byte above
// 0x7F, then on its own goroutine over copies of the bytes). Number, date and boolean cells are ASCII, so types do not
// depend on the encoding either. Only the order of text differs: for every
// column that holds a byte above 0x7F, the profiler keeps the text extremes
// in the byte order of each candidate too (windows-1252's and Mac Roman's
// orders are byte orders through a rank table), and the extremes and
// header names of the decided encoding are decoded at the end. The profile
// is therefore exactly the one of the file read in its encoding from the
// first byte (tests check this on random files).
//
// NUL bytes, or more than 2 + 1% control bytes other than tab, CR and LF
// in the first SniffSize bytes, make the input "not a CSV file". UTF-16
// without a BOM therefore counts as binary unless the caller states it.
//
// Reader decodes windows-1252 and Mac Roman with its own tables and UTF-16
// with golang.org/x/text, and passes UTF-8 through untouched: it was
// verified at upload. Files stored before that (Dialect.Unverified) may
// hold bytes that are not UTF-8 behind their "utf-8" label; each such byte
// is read as its windows-1252 character. Either way no record carries
// invalid UTF-8. A leading BOM is always stripped.
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
//
// No cell is dropped: a record longer than the header adds columns, named
// like blank header cells (column_N), empty in every other record; a record
// shorter than the header has empty cells ("", which means NULL) at its end.
// Analyze counts both kinds (Summary.Short, Summary.Long), and Reader.SetWidth
// reads a stored file as wide as its profile. Files profiled before long
// records added columns have as many columns as their header, and are read
// that way.
//
// # Quotes and malformed input
//
// A field is quoted only if its first byte is a double quote. Inside it,
// delimiters and line breaks are data and "" is one quote. Line breaks
// inside quotes are kept byte for byte (CRLF is not rewritten to LF).
// Malformed input never aborts reading; the repairs are those of Python's
// csv module (strict=False), which DuckDB's reader also makes, and every
// record that needed one is counted (Reader.Repaired, Summary.Repaired,
// the header included):
//
//   - a quote inside an unquoted field is an ordinary character (a"b is
//     a"b), and needs no repair;
//   - a closing quote followed by more text ends the quoted part, and the
//     field goes on unquoted to the next delimiter or line break, its quotes
//     taken literally: "x"y,2 is the fields xy and 2, and "a"b",c is ab" and
//     c. A stray quote cannot swallow the rest of the file;
//   - a quoted field still open at the end of input runs to the end of input.
//
// Because a quote that is never closed could otherwise pull the rest of a
// huge file into memory, a record longer than 16 MiB is read again with
// every quote taken literally, so that it ends at its first line break;
// reading then goes on normally from the next line (counted as repaired
// too). A single line longer than 16 MiB is an error (ErrRecordTooLarge),
// and the only one malformed input can cause. Files stored before stray
// quotes were repaired (Dialect.Unverified) keep being read by the rules they
// were profiled with: there a quote after a closing quote that is not
// followed by a delimiter or line break is data, as with encoding/csv's
// LazyQuotes.
//
// # Splitting a file at records
//
// FindBoundary (or a BoundaryScanner over bytes in hand) finds where a
// record starts in the middle of a file, so that goroutines can read parts
// of it at once: it follows every state the reader could be in at the
// offset it starts from, by the reader's own rules, until they all end a
// record at the same byte (Boundary.Certain), or else gives the first
// record start unless the offset lay inside quotes. UTF-16 cannot be split.
// A fragment Reader (NewFragmentReader) reads the bytes between two
// boundaries and checks that its end is one: a record running into it, or
// one long enough to be read with literal quotes by a reader of the whole
// file, is ErrFragmentUnsure instead, so a wrong guess is caught by the
// fragment before it.
//
// # Type inference
//
// Profiler gives every column the narrowest type that all of its non-empty
// cells fit, exactly as written (no trimming):
//
//   - INTEGER: optional sign and decimal digits that fit in an int64.
//   - FLOAT: [+-] digits [. digits] [e[+-]digits], also .5 and 5.;
//     no NaN, Inf, hex or digit separators. Integers are floats too, and so
//     are whole numbers too long for an int64.
//   - Numbers with a leading zero (007, 01.5) are not numeric: they are
//     almost always codes (ZIP, phone, article numbers) whose zeros matter.
//   - A value beyond float64's range (1e400, or a whole number above about
//     1.8e308) is not a number but TEXT: ±Inf would make 1e400 equal to
//     2e400. ParseNumber is this one rule, and the filter package reads
//     numbers with it too.
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
// for DATETIME and byte-wise (code point order) for BOOLEAN and TEXT, and
// keep the original cell text. Numbers compare exactly (Number.Compare):
// whole numbers digit for digit, however long, floats as floats, and a whole
// number against a float by their exact values, so 9007199254740993 is
// above 9007199254740992.5 although both round to the same float64. A
// whitespace-only cell is not empty: it counts as TEXT.
package csvio
