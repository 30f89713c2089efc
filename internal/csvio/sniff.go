package csvio

import (
	"bytes"
	"errors"
	"unicode/utf8"

	"golang.org/x/text/encoding/unicode"
)

// SniffSize is how many leading bytes Sniff is meant to see: enough for the
// first 20 records of nearly any file, small enough to peek at while an
// upload streams.
const SniffSize = 64 << 10

// Encoding names used in Dialect.Encoding.
const (
	EncodingUTF8        = "utf-8"
	EncodingUTF8BOM     = "utf-8-bom"
	EncodingUTF16LE     = "utf-16le"
	EncodingUTF16BE     = "utf-16be"
	EncodingWindows1252 = "windows-1252"
	EncodingMacintosh   = "macintosh" // Mac OS Roman
)

// Dialect is what Analyze learned about a file's bytes. The zero value reads
// UTF-8 with commas.
type Dialect struct {
	Encoding  string // "utf-8", "utf-8-bom", "utf-16le", "utf-16be", "windows-1252", "macintosh"
	Delimiter byte   // ',', ';', '\t' or '|'
	// Unverified marks a file stored before uploads were checked to the
	// last byte and before stray quotes were repaired. Its "utf-8" label
	// rests on its first 64 KiB, so a byte that is not UTF-8 is read as
	// the windows-1252 character it would be (never passed on as invalid
	// UTF-8), and its quotes are read by the rules it was profiled with:
	// a quote after a closing quote is data, so its row count still holds.
	Unverified bool
}

// ErrNotCSV is wrapped by every *NotCSVError so callers can test with
// errors.Is without caring about the reason.
var ErrNotCSV = errors.New("not a CSV file")

// NotCSVError rejects an upload whose bytes cannot be a CSV file. Reason is
// meant for end users.
type NotCSVError struct{ Reason string }

// Error reads "not a CSV file: " followed by the reason.
func (e *NotCSVError) Error() string { return "not a CSV file: " + e.Reason }

// Unwrap lets errors.Is(err, ErrNotCSV) match.
func (e *NotCSVError) Unwrap() error { return ErrNotCSV }

const (
	reasonEmpty    = "the file is empty"
	reasonNUL      = "it contains NUL bytes (binary data)"
	reasonNotText  = "it is not text"
	reasonNoHeader = "it has no header row"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Sniff guesses encoding and delimiter from the first bytes of a file
// (normally SniffSize of them). The prefix may end in the middle of a
// character or a quoted field. It returns a *NotCSVError for empty or
// binary input. Without a byte order mark the encoding is only a guess
// from the prefix ("utf-8" if it is valid UTF-8, else "windows-1252");
// Analyze decides it on every byte.
func Sniff(prefix []byte) (Dialect, error) {
	d, _, err := sniff(prefix, "")
	if err == nil && d.Encoding == "" {
		d.Encoding = EncodingWindows1252
		if validUTF8Prefix(bytes.TrimPrefix(prefix, bomUTF8)) {
			d.Encoding = EncodingUTF8
		}
	}
	return d, err
}

// sniff checks the prefix and finds the delimiter. The encoding is the
// BOM's (which wins over a stated UTF-8 or UTF-16; bom reports a UTF-8
// BOM), else the stated one, else "" (to be decided on every byte).
func sniff(prefix []byte, stated string) (d Dialect, bom bool, err error) {
	if len(prefix) == 0 {
		return Dialect{}, false, &NotCSVError{reasonEmpty}
	}
	text := prefix
	unicodeFamily := stated == "" || stated == EncodingUTF8 || stated == EncodingUTF16LE || stated == EncodingUTF16BE
	switch {
	case unicodeFamily && bytes.HasPrefix(prefix, bomUTF8):
		d.Encoding, text, bom = EncodingUTF8BOM, prefix[3:], true
	case unicodeFamily && bytes.HasPrefix(prefix, bomUTF16LE):
		d.Encoding, text = EncodingUTF16LE, decodeUTF16(prefix[2:], unicode.LittleEndian)
	case unicodeFamily && bytes.HasPrefix(prefix, bomUTF16BE):
		d.Encoding, text = EncodingUTF16BE, decodeUTF16(prefix[2:], unicode.BigEndian)
	case stated == EncodingUTF16LE:
		d.Encoding, text = stated, decodeUTF16(prefix, unicode.LittleEndian)
	case stated == EncodingUTF16BE:
		d.Encoding, text = stated, decodeUTF16(prefix, unicode.BigEndian)
	case stated != EncodingUTF8:
		d.Encoding = stated
	}
	if len(text) == 0 {
		return Dialect{}, false, &NotCSVError{reasonEmpty}
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return Dialect{}, false, &NotCSVError{reasonNUL}
	}
	if tooManyControls(text) {
		return Dialect{}, false, &NotCSVError{reasonNotText}
	}
	d.Delimiter = sniffDelimiter(text)
	return d, bom, nil
}

// decodeUTF16 turns the prefix into UTF-8 so that the text checks and the
// delimiter count run on characters, not on half of each code unit. An odd
// trailing byte is the prefix cut, not data.
func decodeUTF16(b []byte, e unicode.Endianness) []byte {
	b = b[:len(b)&^1]
	// The decoder replaces bad surrogates with U+FFFD rather than failing,
	// which is what the reader will do too.
	out, _ := unicode.UTF16(e, unicode.IgnoreBOM).NewDecoder().Bytes(b)
	return out
}

// tooManyControls tolerates a few stray control bytes (form feeds, a DOS
// EOF marker) that real text files carry, but not the density of binary data.
func tooManyControls(b []byte) bool {
	n := 0
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F {
			n++
		}
	}
	return n > 2+len(b)/100
}

// validUTF8Prefix is utf8.Valid, except that a character cut short by the
// end of the prefix does not count against the text.
func validUTF8Prefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return utf8.Valid(b[:i])
			}
			return false
		}
	}
	return false
}

var delimiterCandidates = [...]byte{',', ';', '\t', '|'}

const sniffRecords = 20

// sniffDelimiter scores every candidate by how consistent its field count is;
// comma comes first so that it wins ties, and a score must be positive so
// that a file where no candidate appears stays comma.
func sniffDelimiter(text []byte) byte {
	best, bestScore := byte(','), 0
	var counts [sniffRecords]int
	for _, d := range delimiterCandidates {
		n := countFields(text, d, counts[:])
		if s := consistency(counts[:n]); s > bestScore {
			best, bestScore = d, s
		}
	}
	return best
}

// countFields stores the field count of up to len(out) records of b, parsed
// with delimiter d and the same quote rules as Reader. A final record with
// no line break after it is dropped when there are others, because the
// prefix may have cut it.
func countFields(b []byte, d byte, out []int) int {
	n, i := 0, 0
	for i < len(b) && n < len(out) {
		if b[i] == '\n' || b[i] == '\r' {
			i++
			continue
		}
		fields, complete, fieldStart, inQuote := 1, false, true, false
	record:
		for i < len(b) {
			c := b[i]
			if inQuote {
				if c == '"' {
					if i+1 < len(b) && b[i+1] == '"' {
						i++
					} else {
						// Also when more text follows: the reader ends
						// the quoted part there too.
						inQuote = false
					}
				}
				i++
				continue
			}
			switch c {
			case d:
				fields++
				fieldStart = true
				i++
				continue
			case '\n', '\r':
				if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
					i++
				}
				i++
				complete = true
				break record
			case '"':
				inQuote = fieldStart
			}
			fieldStart = false
			i++
		}
		if !complete && n > 0 {
			break
		}
		out[n] = fields
		n++
	}
	return n
}

// consistency rewards the most common field count (of at least 2, since one
// field means the candidate does not occur) and punishes every record that
// deviates from it.
func consistency(counts []int) int {
	mode, freq := 0, 0
	for _, c := range counts {
		if c < 2 {
			continue
		}
		f := 0
		for _, o := range counts {
			if o == c {
				f++
			}
		}
		if f > freq || (f == freq && c > mode) {
			mode, freq = c, f
		}
	}
	if freq == 0 {
		return 0
	}
	return freq - (len(counts) - freq)
}
