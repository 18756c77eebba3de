// Package testenv gives tests the real things: a fresh PostgreSQL database
// cloned from a migrated (optionally seeded) template, an in-process NATS
// JetStream server, and the whole server on loopback ports.
package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/seed"
	"github.com/helpline/helpline/migrations"
)

// DemoPassword is the seeded demo users' password in tests.
const DemoPassword = "demo-password-for-tests"

// EnvURL names the variable holding an admin URL of the test cluster.
const EnvURL = "HELPLINE_TEST_DATABASE_URL"

// lockID serializes template builds and clones across test processes.
const lockID = 7_310_001

// Logger is a quiet logger for tests (warnings and errors only).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func adminURL(t testing.TB) string {
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Fatalf("%s is not set: run the tests with `make test`, which starts a local PostgreSQL, or point it at a PostgreSQL superuser URL", EnvURL)
	}
	return u
}

// withDB returns base with its database replaced by name.
func withDB(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

func fingerprint() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.FS, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func seedFingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%v%v%v%v%v%v", seed.Districts, seed.Departments, seed.Categories, seed.Rules, seed.Holidays, seed.Lines)
	return hex.EncodeToString(h.Sum(nil))[:8]
}

// DB returns a pool on a fresh, migrated, empty database, dropped at cleanup.
func DB(t testing.TB) *pgxpool.Pool { return clone(t, false) }

// SeededDB returns a pool on a fresh database holding the demo master data
// and demo users (password DemoPassword), dropped at cleanup.
func SeededDB(t testing.TB) *pgxpool.Pool { return clone(t, true) }

// URL returns the connection URL of the database behind pool.
func URL(t testing.TB, pool *pgxpool.Pool) string {
	return withDB(adminURL(t), pool.Config().ConnConfig.Database)
}

func clone(t testing.TB, seeded bool) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	admin := adminURL(t)
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
		t.Fatal(err)
	}
	tmpl := "helpline_tmpl_" + fingerprint()
	if err := ensureTemplate(ctx, conn, admin, tmpl, nil); err != nil {
		_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockID)
		t.Fatalf("build template: %v", err)
	}
	if seeded {
		base := tmpl
		tmpl = tmpl + "_seed_" + seedFingerprint()
		if err := ensureTemplate(ctx, conn, admin, tmpl, &base); err != nil {
			_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockID)
			t.Fatalf("build seeded template: %v", err)
		}
	}
	name := "t_" + strings.ToLower(rand.Text()[:16])
	_, err = conn.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl))
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockID)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	pool, err := db.Open(ctx, withDB(admin, name), 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Close()
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
			_ = c.Close(context.Background())
		}
	})
	return pool
}

// ensureTemplate builds template name once: migrated from scratch, or
// cloned from base and seeded.
func ensureTemplate(ctx context.Context, conn *pgx.Conn, admin, name string, base *string) error {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := name + "_building"
	if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return err
	}
	create := fmt.Sprintf(`CREATE DATABASE %s ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8' TEMPLATE template0`, building)
	if base != nil {
		create = fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, building, *base)
	}
	if _, err := conn.Exec(ctx, create); err != nil {
		return err
	}
	pool, err := db.Open(ctx, withDB(admin, building), 4)
	if err != nil {
		return err
	}
	if base == nil {
		err = db.Migrate(ctx, pool, slog.New(slog.DiscardHandler))
	} else {
		var hash string
		hash, err = password.NewHasher(password.Cheap, 1).Hash(ctx, DemoPassword)
		if err == nil {
			_, err = seed.Load(ctx, pool, hash, time.Date(2026, 1, 1, 0, 0, 0, 0, clock.IST))
		}
	}
	pool.Close()
	if err != nil {
		return err
	}
	for _, q := range []string{
		fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name),
		fmt.Sprintf(`ALTER DATABASE %s WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`, name),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
