package csvio

import (
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
)

const benchSize = 32 << 20

var (
	benchOnce sync.Once
	benchData []byte
)

// benchCSV builds a deterministic mixed file of about benchSize bytes:
// integers, floats, text, dates, booleans and quoted fields, some with
// delimiters, doubled quotes or line breaks inside.
func benchCSV() []byte {
	benchOnce.Do(func() {
		rng := rand.New(rand.NewPCG(7, 11))
		words := []string{"alpha", "beta", "gamma", "delta", "Zürich", "São Paulo", "New York", "Kraków", "Ōsaka", "Lyon"}
		b := bytes.NewBuffer(make([]byte, 0, benchSize+1024))
		b.WriteString("id,qty,price,name,city,created,updated,note,active,score\n")
		for id := 1; b.Len() < benchSize; id++ {
			b.WriteString(strconv.Itoa(id))
			b.WriteByte(',')
			b.WriteString(strconv.Itoa(rng.IntN(1000) - 100))
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(rng.Float64()*1000, 'f', 2, 64))
			b.WriteByte(',')
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteString(" ")
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(',')
			b.WriteString(words[rng.IntN(len(words))])
			b.WriteByte(',')
			b.WriteString("2024-")
			b.WriteString(strconv.Itoa(10 + rng.IntN(3)))
			b.WriteString("-")
			b.WriteString(strconv.Itoa(10 + rng.IntN(19)))
			b.WriteByte(',')
			b.WriteString("2023-05-")
			b.WriteString(strconv.Itoa(10 + rng.IntN(19)))
			b.WriteString("T1")
			b.WriteString(strconv.Itoa(rng.IntN(10)))
			b.WriteString(":30:00Z,")
			switch n := rng.IntN(10); {
			case n < 5:
				b.WriteString("plain note")
			case n < 8:
				b.WriteString(`"with, comma"`)
			case n < 9:
				b.WriteString(`"say ""hi"" there"`)
			default:
				b.WriteString("\"two\nlines\"")
			}
			b.WriteByte(',')
			if rng.IntN(2) == 0 {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
			b.WriteByte(',')
			b.WriteString(strconv.FormatFloat(rng.NormFloat64(), 'g', 6, 64))
			b.WriteByte('\n')
		}
		benchData = b.Bytes()
	})
	return benchData
}

// BenchmarkStdlibRead is the floor the cut path has to beat.
func BenchmarkStdlibRead(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkReaderRead(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), Dialect{Encoding: EncodingUTF8, Delimiter: ','})
		if _, err := r.Header(); err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkCutSelect is the product's hot path: read, filter, write 5 of 10
// columns.
func BenchmarkCutSelect(b *testing.B) {
	data := benchCSV()
	idx := []int{0, 2, 3, 5, 7}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), Dialect{Encoding: EncodingUTF8, Delimiter: ','})
		w := NewWriter(io.Discard)
		if _, err := r.Header(); err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if rec[8] == "false" { // a cheap predicate
				continue
			}
			if err := w.WriteSelected(rec, idx); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data := benchCSV()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Analyze(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if s.Columns[0].Type != TypeInteger || s.Columns[6].Type != TypeDateTime {
			b.Fatalf("unexpected profile %+v", s.Columns)
		}
	}
}

func BenchmarkWindows1252Read(b *testing.B) {
	data := benchCSV()[:4<<20]
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(data), Dialect{Encoding: EncodingWindows1252, Delimiter: ','})
		if _, err := r.Header(); err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err != nil {
				break
			}
		}
	}
}
