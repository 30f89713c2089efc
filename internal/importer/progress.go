package importer

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress hears about the import as it goes. Phases are "users", "files"
// and "edges"; Advance is called once per item, with the bytes copied.
type Progress interface {
	Start(phase string, total int)
	Advance(bytes int64)
	Finish()
}

// NewProgress returns a progress bar when w is a terminal, and plain
// progress lines (at most one every few seconds) otherwise, so a log file
// or CI output gets a readable record instead of control characters.
func NewProgress(w io.Writer) Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: 5 * time.Second}
}

// barProgress draws a progressbar per phase.
type barProgress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	phase string
	bytes int64
}

func (p *barProgress) Start(phase string, total int) {
	p.phase, p.bytes = phase, 0
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-5s", phase)),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

func (p *barProgress) Advance(bytes int64) {
	if p.bar == nil {
		return
	}
	if bytes > 0 {
		p.bytes += bytes
		p.bar.Describe(fmt.Sprintf("%-5s %9s", p.phase, humanBytes(p.bytes)))
	}
	_ = p.bar.Add(1)
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// lineProgress prints "files 120/500 (24%), 3.2 MiB" now and then.
type lineProgress struct {
	w          io.Writer
	every      time.Duration
	phase      string
	total, n   int
	bytes      int64
	lastOutput time.Time
}

func (p *lineProgress) Start(phase string, total int) {
	p.phase, p.total, p.n, p.bytes = phase, total, 0, 0
	p.lastOutput = time.Now()
	fmt.Fprintf(p.w, "%s: %d to go\n", phase, total)
}

func (p *lineProgress) Advance(bytes int64) {
	p.n++
	p.bytes += bytes
	if time.Since(p.lastOutput) >= p.every {
		p.print()
	}
}

func (p *lineProgress) Finish() {
	if p.phase != "" {
		p.print()
		p.phase = ""
	}
}

func (p *lineProgress) print() {
	p.lastOutput = time.Now()
	pct := 100
	if p.total > 0 {
		pct = 100 * p.n / p.total
	}
	line := fmt.Sprintf("%s %d/%d (%d%%)", p.phase, p.n, p.total, pct)
	if p.bytes > 0 {
		line += ", " + humanBytes(p.bytes)
	}
	fmt.Fprintln(p.w, line)
}

// noProgress is used when the caller wants none.
type noProgress struct{}

func (noProgress) Start(string, int) {}
func (noProgress) Advance(int64)     {}
func (noProgress) Finish()           {}
