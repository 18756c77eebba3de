package intake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/clock"
	"github.com/helpline/helpline/internal/complaint"
	"github.com/helpline/helpline/internal/db"
	"github.com/helpline/helpline/internal/docket"
	"github.com/helpline/helpline/internal/telemetry"
)

// Group commit: concurrent registrations are written together, in shared
// transactions of a few statements each, so that PostgreSQL does one
// commit (one WAL flush) for many complaints instead of one each. Every
// caller is answered only after the commit that holds its complaint; a
// registration that fails its checks (an unknown code) fails alone; when a
// shared transaction fails, its registrations are retried one by one, so
// one bad row never fails its neighbours.

// Group commit tuning.
const (
	// maxGroup is the most registrations one transaction writes.
	maxGroup = 256
	// committers is how many groups may be in flight at once: while one
	// waits for its WAL flush, the next one fills.
	committers = 4
)

// pending is one registration waiting for its group's commit.
type pending struct {
	ctx  context.Context
	who  caller.Caller
	reg  registration
	hash []byte

	// Set by the committer before done is closed.
	rec    *complaint.Record
	replay bool // the key was used before: answer with that complaint
	err    error
	done   chan struct{}
}

// committer groups registrations into shared transactions.
type committer struct {
	pool  *pgxpool.Pool
	clock clock.Clock
	queue chan *pending
	wake  func()
	// seqReady holds the two-digit years whose docket sequence exists.
	seqReady sync.Map
}

func newCommitter(pool *pgxpool.Pool, clk clock.Clock, wake func()) *committer {
	return &committer{pool: pool, clock: clk, queue: make(chan *pending, 4*maxGroup), wake: wake}
}

// run commits groups until ctx ends.
func (c *committer) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range committers {
		wg.Go(func() {
			group := make([]*pending, 0, maxGroup)
			for {
				select {
				case <-ctx.Done():
					return
				case p := <-c.queue:
					group = append(group[:0], p)
				}
			gather:
				for len(group) < maxGroup {
					select {
					case p := <-c.queue:
						group = append(group, p)
					default:
						break gather
					}
				}
				c.commit(ctx, group)
			}
		})
	}
}

// submit queues p and waits for its group's commit.
func (c *committer) submit(ctx context.Context, p *pending) error {
	p.done = make(chan struct{})
	select {
	case c.queue <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	<-p.done // once queued, the answer comes after the commit (or its failure)
	return p.err
}

// commit writes a group, falling back to one registration per transaction
// when the shared transaction fails.
func (c *committer) commit(ctx context.Context, group []*pending) {
	live := group[:0:0]
	for _, p := range group {
		if err := p.ctx.Err(); err != nil {
			p.err = err // the caller gave up before anything was written
			close(p.done)
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	err := c.write(ctx, live)
	if err != nil && len(live) > 1 {
		for _, p := range live {
			p.rec, p.replay, p.err = nil, false, nil
			if err := c.write(ctx, []*pending{p}); err != nil {
				p.err = err
			}
		}
	} else if err != nil {
		live[0].err = err
	}
	wrote := false
	for _, p := range live {
		if p.err == nil && p.rec != nil {
			wrote = true
		}
		close(p.done)
	}
	if wrote {
		c.wake()
	}
}

// write registers a group in one transaction. A registration that fails
// its checks gets its error in p.err and is left out; an error returned
// fails the whole transaction.
func (c *committer) write(ctx context.Context, group []*pending) error {
	ctx = context.WithoutCancel(ctx)
	return db.InTx(ctx, c.pool, func(tx pgx.Tx) error {
		for _, p := range group {
			p.rec, p.replay, p.err = nil, false, nil
		}
		if err := c.check(ctx, tx, group); err != nil {
			return err
		}
		var todo []*pending
		for _, p := range group {
			if p.err == nil && !p.replay {
				todo = append(todo, p)
			}
		}
		if len(todo) == 0 {
			return nil
		}
		now := c.clock.Now()
		if err := upsertCitizens(ctx, tx, todo, now); err != nil {
			return err
		}
		year := now.In(clock.IST).Year()
		seqs, err := c.dockets(ctx, tx, year, len(todo))
		if err != nil {
			return err
		}
		items := make([]complaint.New, len(todo))
		for i, p := range todo {
			if p.rec.Docket, err = docket.Format(year, seqs[i]); err != nil {
				return err
			}
			items[i] = complaint.New{Record: p.rec, Who: p.who, TraceParent: telemetry.TraceParent(p.ctx), Idem: complaint.Idempotency{Scope: p.who.Username, Key: p.reg.key, Hash: p.hash}}
		}
		inserted, err := complaint.InsertMany(ctx, tx, items, now)
		if err != nil {
			return err
		}
		for i, p := range todo {
			if !inserted[i] {
				p.rec, p.replay = nil, true // a concurrent registration with the same key won
			}
		}
		return nil
	})
}

// dockets draws n numbers of the year's docket sequence, creating it
// first (in a transaction of its own, so every committer sees it) when the
// year is new to this process. Plain nextval: the schema's next_docket_seq
// would cost a subtransaction per number, and more than 64 in one
// transaction slow every snapshot in the database.
func (c *committer) dockets(ctx context.Context, tx pgx.Tx, year, n int) ([]int64, error) {
	yy := year % 100
	name := fmt.Sprintf("docket_seq_%02d", yy)
	if _, ok := c.seqReady.Load(yy); !ok {
		_, err := c.pool.Exec(ctx, fmt.Sprintf(`CREATE SEQUENCE IF NOT EXISTS %s MAXVALUE 9999999`, name))
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && (pgErr.Code == "23505" || pgErr.Code == "42P07")) {
			return nil, fmt.Errorf("docket sequence: %w", err) // not a concurrent creation
		}
		c.seqReady.Store(yy, true)
	}
	rows, err := tx.Query(ctx, `SELECT nextval($1::regclass) FROM generate_series(1, $2)`, name, n)
	if err != nil {
		return nil, fmt.Errorf("docket sequence: %w", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("docket sequence: %w", err)
	}
	return seqs, nil
}

// check looks up, for the whole group in one statement, every code and
// whether the idempotency key was used before, and fills each
// registration's record or error.
func (c *committer) check(ctx context.Context, tx pgx.Tx, group []*pending) error {
	n := len(group)
	scopes, keys, districts, blocks, wards, cats, lines := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, p := range group {
		r := p.reg
		scopes[i], keys[i], districts[i], blocks[i], wards[i], cats[i], lines[i] = p.who.Username, r.key, r.district, r.block, r.ward, r.category, r.line
	}
	rows, err := tx.Query(ctx, `
		SELECT u.i, x.id IS NOT NULL, d.id, b.id, b.parent_id, w.id, w.parent_id, cat.id, l.code IS NOT NULL
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
		     WITH ORDINALITY AS u(scope, key, district, block, ward, category, line, i)
		LEFT JOIN complaints x ON x.idem_scope = u.scope AND x.idem_key = u.key
		LEFT JOIN locations d ON d.code = u.district AND d.kind = 'DISTRICT'
		LEFT JOIN locations b ON b.code = nullif(u.block, '') AND b.kind = 'BLOCK'
		LEFT JOIN locations w ON w.code = nullif(u.ward, '') AND w.kind = 'WARD'
		LEFT JOIN categories cat ON cat.code = u.category
		LEFT JOIN helpline_lines l ON l.code = u.line`,
		scopes, keys, districts, blocks, wards, cats, lines)
	if err != nil {
		return fmt.Errorf("check registrations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var existing bool
		var place complaint.Place
		var blockParent, wardParent, catID *int64
		var lineOK bool
		if err := rows.Scan(&i, &existing, &place.DistrictID, &place.BlockID, &blockParent, &place.WardID, &wardParent, &catID, &lineOK); err != nil {
			return fmt.Errorf("check registrations: %w", err)
		}
		p := group[i-1]
		r := p.reg
		if existing {
			p.replay = true
			continue
		}
		if place, err = complaint.CheckPlace("location.", r.district, r.block, r.ward, place, blockParent, wardParent); err != nil {
			p.err = err
			continue
		}
		switch {
		case catID == nil:
			p.err = apperr.Invalid("category_code", fmt.Sprintf("unknown category %q", r.category))
			continue
		case !lineOK:
			p.err = apperr.Invalid("helpline", fmt.Sprintf("unknown helpline line %q", r.line))
			continue
		}
		p.rec = &complaint.Record{
			CitizenName: r.name, CitizenPhone: r.phone, CitizenLanguage: r.language,
			DistrictID: *place.DistrictID, DistrictCode: r.district, BlockID: place.BlockID, BlockCode: r.block,
			WardID: place.WardID, WardCode: r.ward, Locality: r.locality, Address: r.address,
			CategoryID: *catID, CategoryCode: r.category, Description: r.description,
			Channel: r.channel, Helpline: r.line, RegisteredBy: p.who.Username,
		}
	}
	return rows.Err()
}

// upsertCitizens finds or creates every citizen of the group by phone in
// one statement and sets each record's citizen. A new citizen's record
// takes the first name and language given; an existing one's is never
// changed by a registration (only filled where empty), since anyone may
// register with any phone. Each complaint keeps the name and language
// given with it.
func upsertCitizens(ctx context.Context, tx pgx.Tx, group []*pending, now time.Time) error {
	type citizen struct{ name, language string }
	byPhone := map[string]citizen{}
	var phones []string
	for _, p := range group {
		r := p.reg
		c, seen := byPhone[r.phone]
		if !seen {
			phones = append(phones, r.phone)
		}
		// In arrival order, as one transaction each would have left them.
		if c.name == "" {
			c.name = r.name
		}
		if c.language == "" {
			c.language = r.language
		}
		byPhone[r.phone] = c
	}
	names, langs := make([]string, len(phones)), make([]string, len(phones))
	for i, ph := range phones {
		names[i], langs[i] = byPhone[ph].name, byPhone[ph].language
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO citizens (phone, name, language, created_at, updated_at)
		SELECT u.phone, u.name, u.language, $4, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(phone, name, language)
		ORDER BY u.phone
		ON CONFLICT (phone) DO UPDATE SET
		    name = CASE WHEN citizens.name = '' THEN excluded.name ELSE citizens.name END,
		    language = CASE WHEN citizens.language = '' THEN excluded.language ELSE citizens.language END
		RETURNING phone, id, name, language`, phones, names, langs, now)
	if err != nil {
		return fmt.Errorf("upsert citizens: %w", err)
	}
	type stored struct {
		id             int64
		name, language string
	}
	ids := map[string]stored{}
	for rows.Next() {
		var ph string
		var s stored
		if err := rows.Scan(&ph, &s.id, &s.name, &s.language); err != nil {
			return fmt.Errorf("upsert citizens: %w", err)
		}
		ids[ph] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("upsert citizens: %w", err)
	}
	for _, p := range group {
		s, ok := ids[p.reg.phone]
		if !ok {
			return errors.New("upsert citizens: a citizen was not returned")
		}
		p.rec.CitizenID, p.rec.CitizenName, p.rec.CitizenLanguage = s.id, p.reg.name, p.reg.language
		if p.rec.CitizenName == "" {
			p.rec.CitizenName = s.name
		}
		if p.rec.CitizenLanguage == "" {
			p.rec.CitizenLanguage = s.language
		}
	}
	return nil
}
