package complaint

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/apperr"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/outbox"
	"github.com/helpline/helpline/internal/telemetry"
)

// Idempotency identifies a registration request.
type Idempotency struct {
	Scope string
	Key   string
	Hash  []byte
}

// New is a complaint to register: the record (docket, citizen and codes
// set), its idempotency and who registers it.
type New struct {
	Record *Record
	Idem   Idempotency
	Who    caller.Caller
	// TraceParent is the W3C trace context of the registering call, for its event.
	TraceParent string
}

// Insert writes a new complaint (version 1, REGISTERED) with its first
// history entry and its registered event. It returns false, writing
// nothing, when a complaint with the same idempotency scope and key exists.
func Insert(ctx context.Context, tx pgx.Tx, r *Record, idem Idempotency, now time.Time) (bool, error) {
	ok, err := InsertMany(ctx, tx, []New{{Record: r, Idem: idem, Who: caller.From(ctx), TraceParent: telemetry.TraceParent(ctx)}}, now)
	if err != nil {
		return false, err
	}
	return ok[0], nil
}

// InsertMany writes new complaints (version 1, REGISTERED), each with its
// first history entry and its registered event, in a few statements for
// the whole slice. inserted[i] is false, and nothing is written for it,
// when a complaint with the same idempotency scope and key exists
// (including an earlier one of the slice).
func InsertMany(ctx context.Context, tx pgx.Tx, items []New, now time.Time) (inserted []bool, err error) {
	rule := Table[Register]
	n := len(items)
	dockets, citizens, districts, categories := make([]string, n), make([]int64, n), make([]int64, n), make([]int64, n)
	blocks, wards := make([]*int64, n), make([]*int64, n)
	localities, addresses, descriptions := make([]string, n), make([]string, n), make([]string, n)
	channels, lines, scopes, keys := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	hashes := make([][]byte, n)
	names, langs := make([]string, n), make([]string, n)
	byDocket := make(map[string]int, n)
	for i, it := range items {
		if !rule.Permits(it.Who.Role) {
			return nil, fmt.Errorf("%s may not register complaints: %w", it.Who.Role, apperr.ErrPermissionDenied)
		}
		r := it.Record
		r.Version, r.Status, r.CreatedAt, r.UpdatedAt = 1, Registered, now, now
		dockets[i], citizens[i], districts[i], blocks[i], wards[i] = r.Docket, r.CitizenID, r.DistrictID, r.BlockID, r.WardID
		localities[i], addresses[i], categories[i], descriptions[i] = r.Locality, r.Address, r.CategoryID, r.Description
		channels[i], lines[i], scopes[i], keys[i], hashes[i] = r.Channel, r.Helpline, it.Idem.Scope, it.Idem.Key, it.Idem.Hash
		names[i], langs[i] = r.CitizenName, r.CitizenLanguage
		byDocket[r.Docket] = i
	}
	rows, err := tx.Query(ctx, `
		INSERT INTO complaints (docket, version, status, citizen_id, district_id, block_id, ward_id, locality, address,
		                        category_id, description, channel, helpline, created_at, updated_at,
		                        idem_scope, idem_key, idem_hash, citizen_name, citizen_language)
		SELECT u.docket, 1, $1, u.citizen, u.district, u.block, u.ward, u.locality, u.address,
		       u.category, u.description, u.channel, u.line, $2, $2, u.scope, u.key, u.hash, u.name, u.language
		FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::text[],
		            $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::bytea[],
		            $17::text[], $18::text[])
		     WITH ORDINALITY AS u(docket, citizen, district, block, ward, locality, address, category, description, channel, line,
		                          scope, key, hash, name, language, i)
		ORDER BY u.i
		ON CONFLICT (idem_scope, idem_key) DO NOTHING
		RETURNING docket, id, status_token`,
		string(Registered), now, dockets, citizens, districts, blocks, wards, localities, addresses,
		categories, descriptions, channels, lines, scopes, keys, hashes, names, langs)
	if err != nil {
		return nil, fmt.Errorf("insert complaints: %w", err)
	}
	inserted = make([]bool, n)
	var history [][]any
	var events []*helplinev1.ComplaintEvent
	var traces []string
	for rows.Next() {
		var dkt, token string
		var id int64
		if err := rows.Scan(&dkt, &id, &token); err != nil {
			return nil, fmt.Errorf("insert complaints: %w", err)
		}
		i := byDocket[dkt]
		inserted[i] = true
		r := items[i].Record
		r.ID, r.StatusToken = id, token
		history = append(history, historyRow(r, Register, "", "", items[i].Who, now))
		events = append(events, event(r, Register, "", "", items[i].Who, now))
		traces = append(traces, items[i].TraceParent)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert complaints: %w", err)
	}
	if len(history) == 0 {
		return inserted, nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"complaint_history"}, historyColumns, pgx.CopyFromRows(history)); err != nil {
		return nil, fmt.Errorf("append history: %w", err)
	}
	if err := outbox.WriteMany(ctx, tx, events, traces); err != nil {
		return nil, err
	}
	return inserted, nil
}
