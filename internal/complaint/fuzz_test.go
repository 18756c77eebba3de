package complaint

import (
	"testing"
)

// FuzzLifecycle walks random action sequences through the table: the state
// stays one of the eight, nothing leaves CLOSED, and CLOSED is reached only
// through feedback or an approved special closure.
func FuzzLifecycle(f *testing.F) {
	f.Add([]byte{0, 3, 5, 7, 9})
	f.Add([]byte{1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20})
	actions := make([]Action, 0, len(Table))
	for a := range Table {
		if a != Register {
			actions = append(actions, a)
		}
	}
	// Map iteration order is random: sort for reproducible inputs.
	for i := range actions {
		for j := i + 1; j < len(actions); j++ {
			if actions[j] < actions[i] {
				actions[i], actions[j] = actions[j], actions[i]
			}
		}
	}
	f.Fuzz(func(t *testing.T, steps []byte) {
		r := &Record{Status: Registered}
		for _, b := range steps {
			a := actions[int(b)%len(actions)]
			rule := Table[a]
			if !rule.Allows(r.Status) {
				continue
			}
			if rule.Guard != nil && rule.Guard(r) != "" {
				continue
			}
			if r.Status == Closed && a != Link { // linking duplicates is allowed on closed complaints
				t.Fatalf("%s acted on a CLOSED complaint", a)
			}
			next := rule.Next(r.Status)
			if next == Closed && r.Status != Closed && a != FeedbackSatisfied && a != FeedbackExpire && a != ApproveSpecial {
				t.Fatalf("%s closed a complaint", a)
			}
			switch a {
			case ProposeSpecial:
				r.SpecialClosurePending = true
			case ApproveSpecial, RejectSpecial:
				r.SpecialClosurePending = false
			}
			r.Status = next
			valid := false
			for _, s := range AllStatuses {
				valid = valid || s == r.Status
			}
			if !valid {
				t.Fatalf("%s led to unknown state %q", a, r.Status)
			}
		}
	})
}
