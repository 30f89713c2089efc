package csvio

import (
	"fmt"
	"strings"
)

// Encodings lists the encodings a caller may state for a file, by their
// canonical names.
var Encodings = []string{EncodingUTF8, EncodingUTF16LE, EncodingUTF16BE, EncodingWindows1252, EncodingMacintosh}

// encodingLabels maps the names the WHATWG Encoding Standard gives these
// encodings (the names browsers and most tools accept) to ours. As there,
// ISO-8859-1, Latin-1 and ASCII mean windows-1252, a superset of them.
var encodingLabels = map[string]string{
	"utf-8": EncodingUTF8, "utf8": EncodingUTF8, "unicode-1-1-utf-8": EncodingUTF8, "unicode11utf8": EncodingUTF8,
	"unicode20utf8": EncodingUTF8, "x-unicode20utf8": EncodingUTF8, "utf-8-bom": EncodingUTF8,

	"utf-16le": EncodingUTF16LE, "utf-16": EncodingUTF16LE, "ucs-2": EncodingUTF16LE, "unicode": EncodingUTF16LE,
	"csunicode": EncodingUTF16LE, "iso-10646-ucs-2": EncodingUTF16LE, "unicodefeff": EncodingUTF16LE,
	"utf-16be": EncodingUTF16BE, "unicodefffe": EncodingUTF16BE,

	"windows-1252": EncodingWindows1252, "cp1252": EncodingWindows1252, "x-cp1252": EncodingWindows1252,
	"iso-8859-1": EncodingWindows1252, "iso8859-1": EncodingWindows1252, "iso88591": EncodingWindows1252,
	"iso_8859-1": EncodingWindows1252, "iso_8859-1:1987": EncodingWindows1252, "iso-ir-100": EncodingWindows1252,
	"latin1": EncodingWindows1252, "l1": EncodingWindows1252, "csisolatin1": EncodingWindows1252,
	"ibm819": EncodingWindows1252, "cp819": EncodingWindows1252, "ascii": EncodingWindows1252,
	"us-ascii": EncodingWindows1252, "ansi_x3.4-1968": EncodingWindows1252,

	"macintosh": EncodingMacintosh, "mac": EncodingMacintosh, "x-mac-roman": EncodingMacintosh,
	"csmacintosh": EncodingMacintosh, "mac-roman": EncodingMacintosh, "macroman": EncodingMacintosh,
}

// UnknownEncodingError rejects an encoding name a caller stated.
type UnknownEncodingError struct{ Name string }

func (e *UnknownEncodingError) Error() string {
	return fmt.Sprintf("unknown or unsupported encoding %q: use one of %s (or a common alias such as latin1 or mac-roman)", e.Name, strings.Join(Encodings, ", "))
}

// LookupEncoding returns the canonical name (one of Encodings) of an
// encoding a caller named, case-insensitively.
func LookupEncoding(name string) (string, error) {
	if e, ok := encodingLabels[strings.ToLower(strings.TrimSpace(name))]; ok {
		return e, nil
	}
	return "", &UnknownEncodingError{Name: name}
}
