package intake_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/helpline/helpline/internal/testenv"
)

// TestGroupCommitSharesTransactions registers many complaints at once and
// checks that they were written in shared transactions, that every
// answered docket is stored with its history and event, and that a
// registration with an unknown code fails alone, naming its field.
func TestGroupCommitSharesTransactions(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	const n = 200
	var wg sync.WaitGroup
	dockets := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			req := validRequest(t)
			req.Citizen.Phone = fmt.Sprintf("98160%05d", i%50) // shared citizens within a group
			if i%20 == 7 {
				req.CategoryCode = "NO_SUCH_CATEGORY"
			}
			resp, err := env.Intake.RegisterComplaint(env.Agent, req)
			errs[i] = err
			if err == nil {
				dockets[i] = resp.GetComplaint().GetDocket()
			}
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		if i%20 == 7 {
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "category_code") {
				t.Errorf("registration %d with an unknown category: %v, want INVALID_ARGUMENT naming category_code", i, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("registration %d: %v", i, err)
			continue
		}
		ok++
	}
	if got := count(t, env, `SELECT count(*) FROM complaints WHERE docket = ANY($1)`, dockets); got != ok {
		t.Fatalf("%d answered dockets stored, want %d", got, ok)
	}
	if got := count(t, env, `SELECT count(*) FROM complaint_history h JOIN complaints c ON c.id = h.complaint_id WHERE c.docket = ANY($1) AND h.action = 'register'`, dockets); got != ok {
		t.Errorf("%d register history entries, want %d", got, ok)
	}
	if got := count(t, env, `SELECT count(*) FROM outbox WHERE subject = 'helpline.complaint.registered'`); got != ok {
		t.Errorf("%d registered events, want %d", got, ok)
	}
	if got := count(t, env, `SELECT count(*) FROM citizens WHERE phone LIKE '+9198160%'`); got != 50 {
		t.Errorf("%d citizens, want 50", got)
	}
	// Shared transactions: complaints written by one transaction share its xmin.
	if txs := count(t, env, `SELECT count(DISTINCT xmin::text) FROM complaints WHERE docket = ANY($1)`, dockets); txs >= ok {
		t.Errorf("%d complaints took %d transactions: no group commit", ok, txs)
	} else {
		t.Logf("%d complaints in %d transactions", ok, txs)
	}
}

// TestGroupCommitOneBadRowFailsAlone makes PostgreSQL refuse one row of a
// shared transaction and checks that its neighbours are still registered.
func TestGroupCommitOneBadRowFailsAlone(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN IF NEW.description LIKE '%POISON%' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER refuse_poison BEFORE INSERT ON complaints FOR EACH ROW EXECUTE FUNCTION refuse_poison()`,
	} {
		if _, err := env.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			req := validRequest(t)
			if i%25 == 3 {
				req.Description = "POISON " + req.Description
			}
			_, errs[i] = env.Intake.RegisterComplaint(env.Agent, req)
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%25 == 3 && status.Code(err) != codes.Internal:
			t.Errorf("poisoned registration %d: %v, want INTERNAL", i, err)
		case i%25 == 3 && strings.Contains(err.Error(), "poisoned"):
			t.Errorf("poisoned registration %d leaks the database's message: %v", i, err)
		case i%25 != 3 && err != nil:
			t.Errorf("registration %d failed with a poisoned neighbour: %v", i, err)
		}
	}
	if got := count(t, env, `SELECT count(*) FROM complaints`); got != n-4 {
		t.Errorf("%d complaints stored, want %d", got, n-4)
	}
}

// TestGroupCommitSameKeyConcurrently sends one registration ten times at
// once: one complaint, and every answer names it.
func TestGroupCommitSameKeyConcurrently(t *testing.T) {
	t.Parallel()
	env := testenv.StartServer(t)
	req := validRequest(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 10 {
		wg.Go(func() {
			resp, err := env.Intake.RegisterComplaint(env.Agent, req)
			if err != nil {
				t.Errorf("RegisterComplaint: %v", err)
				return
			}
			mu.Lock()
			seen[resp.GetComplaint().GetDocket()]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Errorf("one key gave dockets %v, want one", seen)
	}
	if got := count(t, env, `SELECT count(*) FROM complaints`); got != 1 {
		t.Errorf("%d complaints stored, want 1", got)
	}
}
