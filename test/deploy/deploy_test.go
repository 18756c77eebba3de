//go:build deploy

// Package deploy is Helpline's deployment rehearsal: the shape a state
// deploys on its first day, as real processes on this machine. nginx (from
// Debian's packages) terminates TLS and balances over two `helpline serve`
// replicas, which themselves serve TLS and believe only the proxy's
// X-Forwarded-For; a three-node NATS JetStream cluster built from
// cmd/helpline-nats requires a password on clients and routes; one
// PostgreSQL. Headless Chromium reaches the console through a LAN
// hostname (helpline.lan, not a secure context over plain HTTP) over HTTP
// and over HTTPS. It runs with `make test-deploy`:
//
//	go test -tags deploy -count=1 -timeout 20m -v ./test/deploy/
//
// and prints a table of what it did and saw.
package deploy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/helpline/helpline/internal/testenv"
	"github.com/helpline/helpline/internal/testproc"
	"github.com/helpline/helpline/internal/webdriver"
)

// hostname is the LAN name the browsers use; Chromium maps it to loopback.
const hostname = "helpline.lan"

// natsPassword is the cluster's client and route password in the rehearsal.
const natsPassword = "rehearsal-nats-password"

var bins map[string]string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "helpline-deploy-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start := time.Now()
	bins, err = testproc.Build("../..", dir, "./cmd/helpline", "./cmd/helpline-nats")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("deploy: built helpline and helpline-nats in %v\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// report collects the rehearsal's table.
type report struct {
	rows [][3]string
}

func (r *report) add(step, saw string, ok bool) {
	verdict := "ok"
	if !ok {
		verdict = "FAILED"
	}
	r.rows = append(r.rows, [3]string{step, saw, verdict})
}

func (r *report) print() {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "step\twhat was seen\tresult")
	for _, row := range r.rows {
		fmt.Fprintf(w, "%s\t%s\t%s\n", row[0], row[1], row[2])
	}
	_ = w.Flush()
}

// deployment is everything the rehearsal started.
type deployment struct {
	dir       string
	certs     certs
	nats      []*testproc.Proc
	natsURLs  string
	replicas  []*testproc.Proc
	httpAddrs []string
	httpPort  int // nginx, plain HTTP
	httpsPort int // nginx, TLS
}

func TestRehearsal(t *testing.T) {
	rep := &report{}
	defer rep.print()
	d := &deployment{dir: rehearsalDir(t)}
	logs := testproc.LogDir(t, "HELPLINE_DEPLOY_LOG_DIR")
	d.certs = makeCerts(t, d.dir)

	pool := testenv.SeededDB(t)
	dbURL := testenv.URL(t, pool)
	pool.Close()

	start := time.Now()
	d.startNATS(t, logs)
	rep.add("NATS cluster", fmt.Sprintf("3 helpline-nats nodes, password on clients and routes; JetStream ready in %v", time.Since(start).Round(time.Millisecond)), true)
	d.checkNATSAuth(t, rep)

	start = time.Now()
	for i := range 2 {
		d.startReplica(t, logs, i, dbURL)
	}
	rep.add("replicas", fmt.Sprintf("2 × helpline serve, gRPC and HTTP over TLS, trusting only the proxy; ready in %v", time.Since(start).Round(time.Millisecond)), true)
	d.startNginx(t, logs)
	rep.add("nginx", fmt.Sprintf("TLS on :%d, plain HTTP on :%d, upstream https to both replicas", d.httpsPort, d.httpPort), true)

	driver := webdriver.Start(t)
	shots := filepath.Join(logs, "screenshots")
	_ = os.MkdirAll(shots, 0o755)
	for _, scheme := range []string{"http", "https"} {
		base := d.base(scheme)
		b := newBrowser(t, driver, base, shots, d.certs)
		secure := b.agent.isSecure()
		start := time.Now()
		docket := b.lifecycle(t, scheme)
		rep.add("console over "+scheme, fmt.Sprintf("%s (isSecureContext %v): agent registered %s, officer resolved it, agent recorded satisfied feedback (%v)",
			base, secure, docket, time.Since(start).Round(100*time.Millisecond)), true)
		start = time.Now()
		user := "new-officer-" + scheme
		b.firstLogin(t, d, user)
		rep.add("first login over "+scheme, fmt.Sprintf("%s logged in with a one-time password, was made to change it, then signed in (%v)", user, time.Since(start).Round(100*time.Millisecond)), true)
		if scheme == "https" {
			d.replicas[0].Kill()
			start = time.Now()
			docket := b.lifecycle(t, scheme+" after kill")
			rep.add("replica 1 killed (kill -9)", fmt.Sprintf("the same browser sessions went on through replica 2: registered, resolved and closed %s (%v)", docket, time.Since(start).Round(100*time.Millisecond)), true)
			d.replicas[0].Start()
			d.waitReady(t, 0)
		}
	}
	d.throttle(t, rep)
}

// rehearsalDir is a directory the proxy's worker processes can read (nginx
// drops to an unprivileged user; t.TempDir is the root user's only).
func rehearsalDir(t *testing.T) string {
	dir, err := os.MkdirTemp("/var/tmp", "helpline-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (d *deployment) base(scheme string) string {
	if scheme == "https" {
		return fmt.Sprintf("https://%s:%d", hostname, d.httpsPort)
	}
	return fmt.Sprintf("http://%s:%d", hostname, d.httpPort)
}

// startNATS runs a three-node JetStream cluster that requires a password.
func (d *deployment) startNATS(t *testing.T, logs string) {
	var clients, routes []string
	for range 3 {
		clients = append(clients, testproc.FreeAddr(t))
		routes = append(routes, testproc.FreeAddr(t))
	}
	var urls []string
	for i := range 3 {
		name := fmt.Sprintf("nats-%d", i+1)
		p := testproc.New(t, logs, name, bins["./cmd/helpline-nats"], testproc.ChildEnv("HELPLINE_NATS_PASSWORD="+natsPassword),
			"-addr", clients[i], "-store", filepath.Join(d.dir, name), "-name", name,
			"-cluster", routes[i], "-routes", strings.Join(routes, ","), "-cluster-name", "helpline-rehearsal",
			"-user", "helpline", "-sync-always")
		p.Start()
		d.nats = append(d.nats, p)
		urls = append(urls, "nats://"+clients[i])
	}
	d.natsURLs = strings.Join(urls, ",")
	deadline := time.Now().Add(60 * time.Second)
	for {
		nc, err := nats.Connect(d.natsURLs, nats.UserInfo("helpline", natsPassword), nats.Timeout(time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("JetStream cluster not ready: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkNATSAuth: a client without the password is refused by every node.
func (d *deployment) checkNATSAuth(t *testing.T, rep *report) {
	refused := 0
	for _, u := range strings.Split(d.natsURLs, ",") {
		nc, err := nats.Connect(u, nats.Timeout(2*time.Second), nats.MaxReconnects(0))
		if err != nil {
			refused++
			continue
		}
		nc.Close()
	}
	rep.add("NATS without credentials", fmt.Sprintf("refused by %d of 3 nodes", refused), refused == 3)
	if refused != 3 {
		t.Errorf("a client without credentials connected to NATS")
	}
}

func (d *deployment) startReplica(t *testing.T, logs string, i int, dbURL string) {
	httpAddr := testproc.FreeAddr(t)
	p := testproc.New(t, logs, fmt.Sprintf("replica-%d", i+1), bins["./cmd/helpline"],
		testproc.ChildEnv("HELPLINE_NATS_PASSWORD="+natsPassword),
		"serve",
		"-database-url", dbURL,
		"-grpc-addr", testproc.FreeAddr(t),
		"-http-addr", httpAddr,
		"-nats-url", d.natsURLs,
		"-nats-user", "helpline",
		"-stream-replicas", "3",
		"-tls-cert", d.certs.serverCert, "-tls-key", d.certs.serverKey, "-tls-ca", d.certs.ca,
		"-trusted-proxies", "127.0.0.1/32",
		"-job-interval", "5s",
		"-log-level", "warn",
	)
	p.Start()
	d.replicas = append(d.replicas, p)
	d.httpAddrs = append(d.httpAddrs, httpAddr)
	d.waitReady(t, i)
}

// waitReady waits until replica i answers /readyz over TLS.
func (d *deployment) waitReady(t *testing.T, i int) {
	client := d.certs.client("")
	deadline := time.Now().Add(90 * time.Second)
	for {
		if ok, err := d.replicas[i].Running(); !ok {
			t.Fatalf("%s exited: %v", d.replicas[i].Name, err)
		}
		resp, err := client.Get("https://" + d.httpAddrs[i] + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready: %v", d.replicas[i].Name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// nginxConf is the proxy configuration the README's "Deploying" section
// shows, with the rehearsal's ports and files.
const nginxConf = `{{user}}
worker_processes 1;
daemon off;
pid {{dir}}/nginx.pid;
error_log {{dir}}/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log {{dir}}/nginx-access.log;
    client_body_temp_path {{dir}}/nginx-body;
    proxy_temp_path {{dir}}/nginx-proxy;
    fastcgi_temp_path {{dir}}/nginx-fastcgi;
    uwsgi_temp_path {{dir}}/nginx-uwsgi;
    scgi_temp_path {{dir}}/nginx-scgi;

    upstream helpline {
        server {{replica1}} max_fails=1 fail_timeout=10s;
        server {{replica2}} max_fails=1 fail_timeout=10s;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:{{http}};
        listen 127.0.0.1:{{https}} ssl http2;
        server_name helpline.lan;
        ssl_certificate     {{cert}};
        ssl_certificate_key {{key}};
        ssl_protocols TLSv1.2 TLSv1.3;
        client_max_body_size 16m;

        location / {
            proxy_pass https://helpline;
            proxy_ssl_trusted_certificate {{ca}};
            proxy_ssl_verify on;
            proxy_ssl_name helpline.lan;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_buffering off;          # the dashboard's change stream
            proxy_read_timeout 1h;
        }
    }
}
`

func (d *deployment) startNginx(t *testing.T, logs string) {
	d.httpPort, d.httpsPort = testproc.FreePort(t), testproc.FreePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers read this directory's files
	}
	conf := strings.NewReplacer("{{user}}", user, "{{dir}}", d.dir, "{{replica1}}", d.httpAddrs[0], "{{replica2}}", d.httpAddrs[1],
		"{{http}}", strconv.Itoa(d.httpPort), "{{https}}", strconv.Itoa(d.httpsPort),
		"{{cert}}", d.certs.serverCert, "{{key}}", d.certs.serverKey, "{{ca}}", d.certs.ca).Replace(nginxConf)
	path := filepath.Join(d.dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	p := testproc.New(t, logs, "nginx", "/usr/sbin/nginx", testproc.ChildEnv(), "-p", d.dir, "-c", path)
	p.Start()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", d.httpPort))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if ok, perr := p.Running(); !ok {
			t.Fatalf("nginx exited: %v", perr)
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not proxying: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// throttle: 200 wrong passwords from one client address through the proxy,
// then agent1 from another address logs in at once, while the first
// address is refused quickly.
func (d *deployment) throttle(t *testing.T, rep *report) {
	attacker, agent := d.certs.client("127.0.0.2"), d.certs.client("127.0.0.3")
	url := fmt.Sprintf("https://%s:%d/v1/login", hostname, d.httpsPort)
	codes := map[int]int{}
	start := time.Now()
	for i := range 200 {
		// A forged X-Forwarded-For changes nothing: the proxy appends the real address.
		code, _, _ := login(t, attacker, url, "agent1", "wrong password "+strconv.Itoa(i), "10.9.8."+strconv.Itoa(i%250))
		codes[code]++
	}
	spent := time.Since(start)
	code, took, _ := login(t, agent, url, "agent1", testenv.DemoPassword, "")
	ok := code == 200
	rep.add("200 wrong passwords from 127.0.0.2", fmt.Sprintf("answers %v in %v", codes, spent.Round(time.Millisecond)), codes[429] > 0)
	rep.add("agent1 from 127.0.0.3 right after", fmt.Sprintf("HTTP %d in %v", code, took.Round(time.Millisecond)), ok)
	if !ok {
		t.Errorf("agent1 from 127.0.0.3 refused: HTTP %d", code)
	}
	var worst time.Duration
	for range 5 {
		code, took, _ = login(t, attacker, url, "agent1", testenv.DemoPassword, "")
		worst = max(worst, took)
		if code != 429 {
			t.Errorf("127.0.0.2 got HTTP %d, want 429", code)
		}
	}
	rep.add("127.0.0.2 again, right password", fmt.Sprintf("HTTP %d, slowest of 5 in %v", code, worst.Round(time.Millisecond)), code == 429 && worst <= 50*time.Millisecond)
	if worst > 50*time.Millisecond {
		t.Errorf("the refusal took %v, want at most 50 ms", worst)
	}
	code, _, _ = login(t, agent, url, "agent2", "wrong password", "")
	rep.add("agent2 from 127.0.0.3, wrong password", fmt.Sprintf("HTTP %d (not locked out by 127.0.0.2)", code), code == 401)
}

func login(t *testing.T, c *http.Client, url, user, pw, forwarded string) (int, time.Duration, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	req, _ := http.NewRequest("POST", url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	if forwarded != "" {
		req.Header.Set("X-Forwarded-For", forwarded)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, time.Since(start), string(b)
}

// certs are the rehearsal's CA and the certificate of helpline.lan (and
// 127.0.0.1), shared by the proxy and the replicas.
type certs struct {
	ca, serverCert, serverKey string
	pool                      *x509.CertPool
	spki                      string // base64 SHA-256 of the server key, for Chromium
}

func makeCerts(t *testing.T, dir string) certs {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Helpline rehearsal CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: hostname},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{hostname, "localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	c := certs{ca: filepath.Join(dir, "ca.pem"), serverCert: filepath.Join(dir, "server.pem"), serverKey: filepath.Join(dir, "server-key.pem"), pool: x509.NewCertPool()}
	write := func(path, kind string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: b}), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(c.ca, "CERTIFICATE", caDER, 0o644)
	write(c.serverCert, "CERTIFICATE", der, 0o644)
	write(c.serverKey, "PRIVATE KEY", keyDER, 0o600)
	c.pool.AddCert(caCert)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sum := sha256.Sum256(pub)
	c.spki = base64.StdEncoding.EncodeToString(sum[:])
	return c
}

// client is an HTTPS client trusting the rehearsal's CA, dialing from
// source (a loopback address such as 127.0.0.2; empty: any), with
// helpline.lan resolved to 127.0.0.1.
func (c certs) client(source string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: c.pool},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, port, _ := net.SplitHostPort(addr)
			if host == hostname {
				addr = net.JoinHostPort("127.0.0.1", port)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}}
}
