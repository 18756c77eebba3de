// Command helplinectl is the operator's and administrator's command line
// over the Helpline gRPC API: log in once, then import master data from CSV
// files, administer users, print statistics and export complaints, and look
// complaints up.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
)

const usage = `usage: helplinectl [-server host:port] [-tls | -tls-ca CA.pem] [-config FILE] <command> [flags] [args]

commands:
  login      [-username U]                     log in; the token is kept in the config file (mode 0600)
  logout                                       revoke the token and forget it
  whoami                                       who the token belongs to
  password                                     change your password (asked for, or read from standard input:
                                               the current one, then the new one, one a line)
  import     <kind> FILE.csv [-dry-run] [-passwords FILE]
             kinds: locations departments categories posts officers rules holidays lines
             (every row is checked; one bad row refuses the whole file, naming its line)
  user       create|list|disable|reset-password|issue-token ...
  stats      resolution|aging|grades [-from -to -by -department -district -month] [-csv FILE]
  export     -from YYYY-MM-DD -to YYYY-MM-DD [-department D] [-district D] [-status S] -o FILE.csv
  complaint  DOCKET                            a complaint with its history
  search     [-phone P] [-text T] [-status S]  complaints, newest first

The server is -server, else HELPLINE_SERVER, else the one logged in to, else 127.0.0.1:50051.
TLS: -tls (the system's roots; HELPLINE_TLS=true) or -tls-ca CA.pem (HELPLINE_TLS_CA).
Run "helplinectl <command> -h" for a command's flags and the CSV columns of each import kind.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "helplinectl:", describe(err))
		os.Exit(1)
	}
}

// cli is one invocation: its streams, saved session and connection.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	configPath     string
	session        session
	server         string
	tls            bool
	tlsCA          string
	conn           *grpc.ClientConn
	// progress shows progress bars (on a terminal, or when forced by tests).
	progress bool
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("helplinectl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	c.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if v := os.Getenv("HELPLINE_TLS"); v != "" && !flagGiven(fs, "tls") {
		if err := fs.Set("tls", v); err != nil {
			return fmt.Errorf("HELPLINE_TLS=%q: not true or false", v)
		}
	}
	creds, err := c.credentials()
	if err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return errors.New("no command given")
	}
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		c.progress = true
	}
	if err := c.load(); err != nil {
		return err
	}
	if c.server == "" {
		c.server = c.session.Server
	}
	if c.server == "" {
		c.server = "127.0.0.1:50051"
	}
	if c.conn, err = grpc.NewClient(c.server, grpc.WithTransportCredentials(creds)); err != nil {
		return err
	}
	defer c.conn.Close()

	cmd, rest := args[0], args[1:]
	switch cmd {
	case "login":
		return c.login(ctx, rest)
	case "logout":
		return c.logout(ctx)
	case "whoami":
		return c.whoami(ctx)
	case "password":
		return c.password(ctx, rest)
	case "import":
		return c.importCSV(ctx, rest)
	case "user":
		return c.user(ctx, rest)
	case "stats":
		return c.stats(ctx, rest)
	case "export":
		return c.export(ctx, rest)
	case "complaint":
		return c.complaint(ctx, rest)
	case "search":
		return c.search(ctx, rest)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// authed returns ctx carrying the saved token.
func (c *cli) authed(ctx context.Context) (context.Context, error) {
	if c.session.Token == "" {
		return nil, errors.New("not logged in: run helplinectl login")
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.session.Token), nil
}

// flags returns a flag set for a subcommand, writing its help to stderr.
func (c *cli) flags(name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet("helplinectl "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, help)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses a subcommand's flags, allowing them after its arguments too.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// describe turns a gRPC error into its code and message, with every field
// violation on a line of its own.
func describe(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	msg := fmt.Sprintf("%s: %s", st.Code(), st.Message())
	return errors.New(strings.TrimSpace(msg))
}

// enumName is an enum value's name without its type prefix, lower case.
func enumName(s, prefix string) string {
	return strings.ToLower(strings.TrimPrefix(s, prefix))
}

// role reads a role name such as "officer".
func role(s string) (helplinev1.Role, error) {
	if s == "" {
		return helplinev1.Role_ROLE_UNSPECIFIED, nil
	}
	v, ok := helplinev1.Role_value["ROLE_"+strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("unknown role %q: agent, officer, supervisor or admin", s)
	}
	return helplinev1.Role(v), nil
}

// complaintStatus reads a status name such as "in_progress".
func complaintStatus(s string) (helplinev1.ComplaintStatus, error) {
	if s == "" {
		return helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED, nil
	}
	v, ok := helplinev1.ComplaintStatus_value["COMPLAINT_STATUS_"+strings.ToUpper(s)]
	if !ok {
		return 0, fmt.Errorf("unknown status %q", s)
	}
	return helplinev1.ComplaintStatus(v), nil
}

// globalFlags registers the flags before the command.
func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", os.Getenv("HELPLINE_SERVER"), "gRPC address of a helpline server (HELPLINE_SERVER)")
	fs.BoolVar(&c.tls, "tls", false, "connect with TLS, verified against the system's roots (HELPLINE_TLS)")
	fs.StringVar(&c.tlsCA, "tls-ca", os.Getenv("HELPLINE_TLS_CA"), "CA bundle (PEM) verifying the server's certificate; implies TLS (HELPLINE_TLS_CA)")
	fs.StringVar(&c.configPath, "config", defaultConfigPath(), "file keeping the server and token (HELPLINECTL_CONFIG)")
}

// flagGiven reports whether the command line set the flag.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// credentials are the transport credentials of -tls and -tls-ca.
func (c *cli) credentials() (credentials.TransportCredentials, error) {
	if c.tlsCA == "" {
		if c.tls {
			return credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}), nil
		}
		return insecure.NewCredentials(), nil
	}
	b, err := os.ReadFile(c.tlsCA)
	if err != nil {
		return nil, fmt.Errorf("-tls-ca (HELPLINE_TLS_CA) %q: cannot be read", c.tlsCA)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("-tls-ca (HELPLINE_TLS_CA) %q: holds no PEM certificate", c.tlsCA)
	}
	return credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}), nil
}
