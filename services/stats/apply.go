package stats

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/consumer"
)

// ConsumerName is the durable consumer that keeps facts and rollups.
const ConsumerName = "stats"

// ConsumerConfig is the stats consumer: every event, applied in batches.
func (s *Service) ConsumerConfig() consumer.Config {
	return consumer.Config{Name: ConsumerName, BatchHandler: s.applyBatch, Batch: 500}
}

// deltas accumulates the changes of a batch to rollup rows.
type deltas map[rowKey]*Counters

func (d deltas) add(f Fact, sign int64) {
	c := f.contribution()
	for t := range tables {
		k := f.rowKey(t)
		acc := d[k]
		if acc == nil {
			acc = &Counters{}
			d[k] = acc
		}
		for i := range c {
			acc[i] += sign * c[i]
		}
	}
}

// applyBatch moves each complaint's fact to the one its newest event
// describes, and applies the difference to the rollups.
func (s *Service) applyBatch(ctx context.Context, tx pgx.Tx, evs []*helplinev1.ComplaintEvent) error {
	ids := make([]int64, 0, len(evs))
	for _, ev := range evs {
		if len(ids) == 0 || ids[len(ids)-1] != ev.GetComplaintId() {
			ids = append(ids, ev.GetComplaintId())
		}
	}
	facts, err := loadFacts(ctx, tx, ids)
	if err != nil {
		return err
	}
	d := deltas{}
	changed := map[int64]Fact{}
	for _, ev := range evs {
		nf := FactFromEvent(ev)
		if of, ok := facts[nf.ComplaintID]; ok {
			if nf.Version <= of.Version {
				continue
			}
			d.add(of, -1)
		}
		d.add(nf, +1)
		facts[nf.ComplaintID] = nf
		changed[nf.ComplaintID] = nf
	}
	if err := saveFacts(ctx, tx, changed); err != nil {
		return err
	}
	return writeDeltas(ctx, tx, d)
}

const factColumns = `complaint_id, version, day, department, district, category, officer, channel, line, status, closure,
	reopened, escalated, reached, resolved, sla_met, bucket, assignments, acks_on_time`

func scanFact(row pgx.Row) (Fact, error) {
	var f Fact
	err := row.Scan(&f.ComplaintID, &f.Version, &f.Day, &f.Department, &f.District, &f.Category, &f.Officer, &f.Channel, &f.Line,
		&f.Status, &f.Closure, &f.Reopened, &f.Escalated, &f.Reached, &f.Resolved, &f.SLAMet, &f.Bucket, &f.Assignments, &f.AcksOnTime)
	return f, err
}

func loadFacts(ctx context.Context, tx pgx.Tx, ids []int64) (map[int64]Fact, error) {
	rows, err := tx.Query(ctx, `SELECT `+factColumns+` FROM stats_facts WHERE complaint_id = ANY($1) ORDER BY complaint_id FOR UPDATE`, ids)
	if err != nil {
		return nil, fmt.Errorf("load facts: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Fact, error) { return scanFact(r) })
	if err != nil {
		return nil, fmt.Errorf("load facts: %w", err)
	}
	m := make(map[int64]Fact, len(list))
	for _, f := range list {
		f.Day = time.Date(f.Day.Year(), f.Day.Month(), f.Day.Day(), 0, 0, 0, 0, time.UTC)
		m[f.ComplaintID] = f
	}
	return m, nil
}

func saveFacts(ctx context.Context, tx pgx.Tx, facts map[int64]Fact) error {
	if len(facts) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(facts))
	for id := range facts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b := &pgx.Batch{}
	for _, id := range ids {
		f := facts[id]
		b.Queue(`INSERT INTO stats_facts (`+factColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
			ON CONFLICT (complaint_id) DO UPDATE SET version = excluded.version, day = excluded.day, department = excluded.department,
			    district = excluded.district, category = excluded.category, officer = excluded.officer, channel = excluded.channel,
			    line = excluded.line, status = excluded.status, closure = excluded.closure, reopened = excluded.reopened,
			    escalated = excluded.escalated, reached = excluded.reached, resolved = excluded.resolved, sla_met = excluded.sla_met,
			    bucket = excluded.bucket, assignments = excluded.assignments, acks_on_time = excluded.acks_on_time`,
			f.ComplaintID, f.Version, f.Day.Format(time.DateOnly), f.Department, f.District, f.Category, f.Officer, f.Channel, f.Line,
			f.Status, f.Closure, f.Reopened, f.Escalated, f.Reached, f.Resolved, f.SLAMet, f.Bucket, f.Assignments, f.AcksOnTime)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save facts: %w", err)
	}
	return nil
}

// upsertSQL returns the statement adding counters to one row of table t.
func upsertSQL(t int) string {
	keys := []string{"day", "department", "district"}
	if tables[t].extra != "" {
		keys = append(keys, tables[t].extra)
	}
	cols := append(slices.Clone(keys), counterColumns...)
	params := make([]string, len(cols))
	for i := range cols {
		params[i] = fmt.Sprintf("$%d", i+1)
	}
	sets := make([]string, len(counterColumns))
	for i, c := range counterColumns {
		sets[i] = fmt.Sprintf("%s = %s.%s + excluded.%s", c, tables[t].name, c, c)
	}
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET %s",
		tables[t].name, strings.Join(cols, ", "), strings.Join(params, ", "), strings.Join(keys, ", "), strings.Join(sets, ", "))
}

// writeDeltas adds a batch's changes to the rollups in one order (table,
// then key), so that concurrent writers wait for each other instead of
// deadlocking.
func writeDeltas(ctx context.Context, tx pgx.Tx, d deltas) error {
	keys := make([]rowKey, 0, len(d))
	for k, c := range d {
		if *c != (Counters{}) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b rowKey) int {
		return cmp.Or(cmp.Compare(a.table, b.table), cmp.Compare(a.day, b.day), cmp.Compare(a.department, b.department),
			cmp.Compare(a.district, b.district), cmp.Compare(a.extra, b.extra))
	})
	b := &pgx.Batch{}
	for _, k := range keys {
		args := []any{k.day, k.department, k.district}
		if tables[k.table].extra != "" {
			args = append(args, k.extra)
		}
		for _, v := range d[k] {
			args = append(args, v)
		}
		b.Queue(upsertSQL(k.table), args...)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("write rollups: %w", err)
	}
	return nil
}
