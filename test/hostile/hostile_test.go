//go:build hostile

// Package hostile is Helpline's hostile-client suite: every finding of the
// black-box probe (issue 16) replayed as an attack against a real server
// (PostgreSQL, in-process NATS, the gRPC, REST, Open311 and console edges),
// each one a test that failed before its fix. It runs with
// `make test-hostile`:
//
//	go test -tags hostile -count=1 -timeout 20m -v ./test/hostile/
//
// and prints a table: the attack, what it did before the fix, what it does now.
package hostile

import (
	"fmt"
	"os"
	"sort"
	"sync"
	"testing"
	"text/tabwriter"
)

// finding is one row of the table.
type finding struct {
	attack, before, after string
	failed                bool
}

var (
	mu       sync.Mutex
	findings []finding
)

// record adds the row of the test t: the attack, what the server did before
// its fix (as the probe found it), what it does now (as measured here).
// A failed test's row says so.
func record(t *testing.T, attack, before, after string) {
	t.Helper()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		findings = append(findings, finding{attack, before, after, t.Failed()})
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	mu.Lock()
	sort.SliceStable(findings, func(i, j int) bool { return findings[i].attack < findings[j].attack })
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "attack\tbefore\tafter\tresult")
	for _, f := range findings {
		verdict := "held"
		if f.failed {
			verdict = "FAILED"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.attack, f.before, f.after, verdict)
	}
	_ = w.Flush()
	mu.Unlock()
	os.Exit(code)
}
