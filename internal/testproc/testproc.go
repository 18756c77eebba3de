// Package testproc runs Helpline's real binaries as child processes for the
// suites that test them as deployed (the fault-injection suite and the
// deployment rehearsal): building them, free loopback ports, and processes
// that can be stopped, killed and started again.
package testproc

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build compiles each package (relative to root, e.g. "./cmd/helpline")
// into dir, named after its last path element, and returns the paths by package.
func Build(root, dir string, pkgs ...string) (map[string]string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	out := map[string]string{}
	for _, pkg := range pkgs {
		bin := filepath.Join(dir, filepath.Base(pkg))
		cmd := exec.Command(goBin, "build", "-o", bin, pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
		}
		out[pkg] = bin
	}
	return out, nil
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr is 127.0.0.1 with a FreePort.
func FreeAddr(t testing.TB) string { return "127.0.0.1:" + strconv.Itoa(FreePort(t)) }

// ChildEnv is this process's environment without any HELPLINE_ variable
// (make exports HELPLINE_DATABASE_URL, for example), plus extra.
func ChildEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HELPLINE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// Proc is a child process that can be stopped, killed and started again
// with the same arguments. Its output goes to a log file that is copied
// into the test log when the test fails. Whatever runs at cleanup is
// killed with SIGKILL.
type Proc struct {
	// Name names the process in logs and failures.
	Name string
	t    testing.TB
	bin  string
	args []string
	env  []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	exit   error
	starts int
}

// New prepares a process; logDir holds its output (see LogDir).
func New(t testing.TB, logDir, name, bin string, env []string, args ...string) *Proc {
	t.Helper()
	p := &Proc{t: t, Name: name, bin: bin, args: args, env: env, log: filepath.Join(logDir, name+".log")}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			p.DumpLog()
		}
	})
	return p
}

// Start starts the process; it fails the test when it cannot.
func (p *Proc) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && !isDone(p.done) {
		p.t.Fatalf("%s: started while running", p.Name)
	}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	p.starts++
	fmt.Fprintf(f, "==== %s start #%d at %s: %s %s\n", p.Name, p.starts, time.Now().Format(time.TimeOnly+".000"), p.bin, strings.Join(p.args, " "))
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	// Should this test process die, its children die with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		p.t.Fatalf("start %s: %v", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exit = cmd, done, nil
	go func() {
		err := cmd.Wait()
		fmt.Fprintf(f, "==== %s exited at %s: %v\n", p.Name, time.Now().Format(time.TimeOnly+".000"), err)
		f.Close()
		p.mu.Lock()
		p.exit = err
		p.mu.Unlock()
		close(done)
	}()
}

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Running reports whether the process is running, and how it ended if not.
func (p *Proc) Running() (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false, errors.New("never started")
	}
	if isDone(p.done) {
		return false, p.exit
	}
	return true, nil
}

// Signal sends sig and waits up to wait for the process to end; then it
// kills it. It reports whether the process ended within wait.
func (p *Proc) Signal(sig syscall.Signal, wait time.Duration) bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil || isDone(done) {
		return true
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
		return true
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		return false
	}
}

// Stop ends the process gracefully (SIGTERM), killing it after 20 seconds.
func (p *Proc) Stop() {
	p.t.Helper()
	if !p.Signal(syscall.SIGTERM, 20*time.Second) {
		p.t.Errorf("%s did not stop within 20s of SIGTERM; killed", p.Name)
	}
}

// Kill ends the process with SIGKILL (kill -9).
func (p *Proc) Kill() { p.Signal(syscall.SIGKILL, 10*time.Second) }

// Starts is how many times the process was started.
func (p *Proc) Starts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts
}

// DumpLog copies the end of the process's output into the test log.
func (p *Proc) DumpLog() {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return
	}
	const max = 24 << 10
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
		b = append([]byte("[... earlier output cut ...]\n"), b...)
	}
	p.t.Logf("---- output of %s (%s) ----\n%s", p.Name, p.log, b)
}

// LogDir is where a test's process logs go: a temporary directory, or,
// when the variable keep names a directory, a directory under it named
// after the test that is kept afterwards.
func LogDir(t testing.TB, keep string) string {
	root := os.Getenv(keep)
	if root == "" {
		return t.TempDir()
	}
	dir := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
