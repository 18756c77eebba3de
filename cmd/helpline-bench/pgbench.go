package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/password"
	"github.com/helpline/helpline/internal/seed"
)

// rawScript is one registration's rows written straight to PostgreSQL, one
// transaction each: the citizen, the docket number, the complaint, its
// first history entry and its outbox event, into the same tables with the
// same indexes and triggers as the server writes.
const rawScript = `\set r random(1, 1000000000)
BEGIN;
INSERT INTO citizens (phone, name, language, created_at, updated_at)
  VALUES ('+919' || lpad((:r % 1000000000)::text, 9, '0'), 'Bench Citizen', 'hi', now(), now())
  ON CONFLICT (phone) DO UPDATE SET name = excluded.name, language = excluded.language, updated_at = excluded.updated_at
  RETURNING id AS cit \gset
INSERT INTO complaints (docket, version, status, citizen_id, district_id, locality, address, category_id, description,
                        channel, helpline, created_at, updated_at, idem_scope, idem_key, idem_hash)
  VALUES (:yy || '-' || lpad(nextval('docket_seq_' || :yy)::text, 7, '0') || '-0', 1, 'REGISTERED', :cit, :district, 'Ward 4, Main Bazaar', '',
          :category, 'सड़क पर बड़े गड्ढे हैं, बरसात में पानी भर जाता है और दुर्घटना का खतरा है। कृपया जल्दी मरम्मत कराएं। (#' || :r || ')',
          'PHONE', '1100', now(), now(), 'bench-agent', gen_random_uuid()::text, sha256(:r::text::bytea))
  RETURNING id AS cid \gset
INSERT INTO complaint_history (complaint_id, version, action, to_status, actor, actor_role, at, category_code, district_code, level)
  VALUES (:cid, 1, 'register', 'REGISTERED', 'bench-agent', 'AGENT', now(), 'ROAD_POTHOLES', 'SHIMLA', 0);
INSERT INTO outbox (event_id, subject, payload, created_at)
  VALUES (gen_random_uuid(), 'helpline.complaint.registered', convert_to(repeat('e', 420), 'UTF8'), now());
END;
`

// runPgbench measures the raw limit: pgbench running rawScript at each
// concurrency, against a migrated and seeded database of its own.
func runPgbench(ctx context.Context, cfg loadConfig, url string) ([]rawStep, error) {
	bin := cfg.pgbenchBinary
	if bin == "" {
		matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
		sort.Strings(matches)
		if len(matches) == 0 {
			p, err := exec.LookPath("pgbench")
			if err != nil {
				return nil, fmt.Errorf("pgbench not found: install PostgreSQL's client tools")
			}
			matches = []string{p}
		}
		bin = matches[len(matches)-1]
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	if err := db.Migrate(ctx, pool, log); err != nil {
		return nil, err
	}
	hash, err := password.NewHasher(password.Cheap, 1).Hash(ctx, benchPassword)
	if err != nil {
		return nil, err
	}
	if _, err := seed.Load(ctx, pool, hash, time.Now()); err != nil {
		return nil, err
	}
	var district, category int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT id FROM locations WHERE code = 'SHIMLA'), (SELECT min(id) FROM categories)`).Scan(&district, &category); err != nil {
		return nil, err
	}
	// The year's docket sequence, created as the server creates it; the
	// script then draws with plain nextval, as the server does.
	yy := time.Now().Year() % 100
	if _, err := pool.Exec(ctx, `SELECT next_docket_seq($1)`, yy); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "helpline-pgbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "register.sql")
	if err := os.WriteFile(script, []byte(rawScript), 0o644); err != nil {
		return nil, err
	}
	var out []rawStep
	for _, c := range cfg.concurrency {
		progress(fmt.Sprintf("pgbench: %d clients for %v", c, cfg.step))
		prefix := filepath.Join(dir, fmt.Sprintf("c%d", c))
		cmd := exec.CommandContext(ctx, bin, "-n", "-c", strconv.Itoa(c), "-j", strconv.Itoa(min(c, 4)),
			"-T", strconv.Itoa(int(cfg.step.Seconds())), "-f", script,
			"-D", fmt.Sprintf("yy=%02d", yy), "-D", fmt.Sprintf("district=%d", district), "-D", fmt.Sprintf("category=%d", category),
			"-l", "--log-prefix="+prefix, url)
		cmd.Dir = dir
		output, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("%s: %w\n%s", cmd, err, output)
		}
		m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(output)
		if m == nil {
			return nil, fmt.Errorf("pgbench printed no tps:\n%s", output)
		}
		tps, _ := strconv.ParseFloat(string(m[1]), 64)
		lat, err := pgbenchLatencies(prefix)
		if err != nil {
			return nil, err
		}
		out = append(out, rawStep{Clients: c, PerSecond: tps, MedianMS: percentileMS(lat, 0.5), P99MS: percentileMS(lat, 0.99)})
		progress(fmt.Sprintf("  %.0f/s, p99 %.1f ms", tps, percentileMS(lat, 0.99)))
	}
	return out, nil
}

// pgbenchLatencies reads the per-transaction logs pgbench -l wrote: the
// third field is the latency in microseconds.
func pgbenchLatencies(prefix string) ([]time.Duration, error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err == nil {
				out = append(out, time.Duration(us)*time.Microsecond)
			}
		}
		fh.Close()
	}
	return out, nil
}
