// Command helpline-nats runs a NATS server with JetStream on, for running
// Helpline against a NATS that lives in its own process: alone, or as one
// node of a JetStream cluster. The fault-injection suite (test/faults) uses
// it to stop, kill and restart NATS independently of the helpline servers.
//
//	HELPLINE_NATS_PASSWORD=... helpline-nats -addr 127.0.0.1:4222 -store /var/tmp/nats
//	HELPLINE_NATS_PASSWORD=... helpline-nats -addr 127.0.0.1:4222 -store /var/tmp/n1 -name n1 \
//	    -cluster 127.0.0.1:6222 -cluster-name helpline \
//	    -routes 127.0.0.1:6222,127.0.0.1:6223,127.0.0.1:6224
//
// Clients and cluster routes authenticate: user -user (default helpline)
// with the password of HELPLINE_NATS_PASSWORD (or -password, which shows in
// ps); every node of a cluster uses the same. With -tls-cert and -tls-key
// clients must use TLS; with -tls-ca too, routes use mutual TLS verified
// against it.
//
// SIGTERM or SIGINT stops the server gracefully (JetStream flushes its
// stores). A `kill -9` is survivable too: on the next start JetStream
// recovers its file store from disk, and the operating system still holds
// every write the killed process made.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "helpline-nats:", err)
		os.Exit(1)
	}
}

// run parses args, starts the server and blocks until a signal stops it.
func run(args []string) error {
	fs := flag.NewFlagSet("helpline-nats", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4222", "client listen address, host:port")
	store := fs.String("store", "", "JetStream store directory (required)")
	name := fs.String("name", "", "server name; unique in a cluster (default: derived from -addr)")
	cluster := fs.String("cluster", "", "cluster (route) listen address, host:port; empty runs a single server")
	routes := fs.String("routes", "", "routes to the cluster's nodes, comma separated host:port or nats-route:// URLs (may include this node)")
	clusterName := fs.String("cluster-name", "helpline", "cluster name; every node of a cluster uses the same")
	syncAlways := fs.Bool("sync-always", false, "fsync every JetStream write before acknowledging it")
	debug := fs.Bool("debug", false, "log protocol debug messages")
	var sec security
	fs.StringVar(&sec.user, "user", "helpline", "user that clients and cluster routes authenticate as")
	fs.StringVar(&sec.password, "password", os.Getenv("HELPLINE_NATS_PASSWORD"), "password of -user (required); prefer HELPLINE_NATS_PASSWORD, a flag shows in ps (HELPLINE_NATS_PASSWORD)")
	fs.StringVar(&sec.cert, "tls-cert", "", "certificate (PEM) clients must connect with TLS to; routes too with -tls-ca")
	fs.StringVar(&sec.key, "tls-key", "", "private key (PEM) of -tls-cert")
	fs.StringVar(&sec.ca, "tls-ca", "", "CA bundle (PEM): routes use mutual TLS verified against it (needs -tls-cert)")
	monitor := fs.String("monitor", "", "HTTP monitoring address, host:port (/healthz for health checks); empty: off")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opts, err := options(*addr, *store, *name, *cluster, *routes, *clusterName)
	if err != nil {
		return err
	}
	if err := sec.apply(opts); err != nil {
		return err
	}
	if *monitor != "" {
		if opts.HTTPHost, opts.HTTPPort, err = hostPort(*monitor); err != nil {
			return fmt.Errorf("-monitor: %w", err)
		}
	}
	opts.SyncAlways = *syncAlways
	opts.Debug = *debug

	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats server: %w", err)
	}
	srv.ConfigureLogger()

	// Catch the signals before starting, so that none arrives unhandled.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return errors.New("the server did not become ready within 30s")
	}
	srv.Noticef("helpline-nats ready: client %s, store %s, cluster %q", srv.ClientURL(), opts.StoreDir, opts.Cluster.Name)

	stopped := make(chan struct{})
	go func() {
		srv.WaitForShutdown()
		close(stopped)
	}()
	select {
	case sig := <-sigs:
		srv.Noticef("helpline-nats: %v received, shutting down", sig)
		srv.Shutdown()
		<-stopped
		return nil
	case <-stopped:
		return errors.New("the server shut down on its own")
	}
}

// options builds the server options from the flags.
func options(addr, store, name, cluster, routes, clusterName string) (*server.Options, error) {
	host, port, err := hostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr: %w", err)
	}
	if store == "" {
		return nil, errors.New("-store: a JetStream store directory is required")
	}
	if name == "" {
		name = "helpline-nats-" + strings.NewReplacer(".", "-", ":", "-").Replace(net.JoinHostPort(host, strconv.Itoa(port)))
	}
	opts := &server.Options{
		ServerName: name,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   store,
		// This command handles SIGTERM and SIGINT itself (graceful stop).
		NoSigs: true,
		// Log to stderr with timestamps.
		Logtime: true,
	}
	if cluster == "" {
		if routes != "" {
			return nil, errors.New("-routes needs -cluster")
		}
		return opts, nil
	}
	chost, cport, err := hostPort(cluster)
	if err != nil {
		return nil, fmt.Errorf("-cluster: %w", err)
	}
	if clusterName == "" {
		return nil, errors.New("-cluster-name: a cluster needs a name")
	}
	opts.Cluster = server.ClusterOpts{Name: clusterName, Host: chost, Port: cport}
	for _, r := range strings.Split(routes, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !strings.Contains(r, "://") {
			r = "nats-route://" + r
		}
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("-routes: %q is not host:port or a nats-route:// URL", r)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return opts, nil
}

// hostPort splits "host:port" and checks the port.
func hostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// security is the authentication and TLS settings.
type security struct {
	user, password string
	cert, key, ca  string
}

// apply requires authentication from clients and routes (routes this node
// dials carry the credentials), and sets up TLS.
func (sec security) apply(opts *server.Options) error {
	if sec.user == "" {
		return errors.New("-user: a user is required")
	}
	if sec.password == "" {
		return errors.New("-password (HELPLINE_NATS_PASSWORD): a password is required; clients and routes authenticate with -user and it")
	}
	opts.Username, opts.Password = sec.user, sec.password
	if opts.Cluster.Port != 0 {
		opts.Cluster.Username, opts.Cluster.Password = sec.user, sec.password
		for _, r := range opts.Routes {
			if r.User == nil {
				r.User = url.UserPassword(sec.user, sec.password)
			}
		}
	}
	if (sec.cert == "") != (sec.key == "") {
		return errors.New("-tls-cert and -tls-key: give both or neither")
	}
	if sec.ca != "" && sec.cert == "" {
		return errors.New("-tls-ca needs -tls-cert and -tls-key")
	}
	if sec.cert == "" {
		return nil
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sec.cert, KeyFile: sec.key, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("-tls-cert, -tls-key: %w", err)
	}
	opts.TLSConfig, opts.TLS, opts.TLSTimeout = tc, true, 2
	if sec.ca != "" && opts.Cluster.Port != 0 {
		rc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: sec.cert, KeyFile: sec.key, CaFile: sec.ca, Verify: true, MinVersion: tls.VersionTLS12})
		if err != nil {
			return fmt.Errorf("-tls-ca: %w", err)
		}
		rc.RootCAs = rc.ClientCAs // this node verifies the nodes it dials too
		opts.Cluster.TLSConfig, opts.Cluster.TLSTimeout = rc, 2
	}
	return nil
}
