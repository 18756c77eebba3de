// Package complaint holds the complaint record, its lifecycle table and the
// one function that applies a transition: state, history entry and outbox
// event written together in the caller's transaction.
package complaint

import (
	"slices"

	"github.com/helpline/helpline/internal/caller"
)

// Status is a lifecycle state.
type Status string

// The lifecycle states of DESIGN.md.
const (
	Registered Status = "REGISTERED"
	Unrouted   Status = "UNROUTED"
	Assigned   Status = "ASSIGNED"
	InProgress Status = "IN_PROGRESS"
	OnHold     Status = "ON_HOLD"
	Resolved   Status = "RESOLVED"
	Reopened   Status = "REOPENED"
	Closed     Status = "CLOSED"
)

// AllStatuses lists every state.
var AllStatuses = []Status{Registered, Unrouted, Assigned, InProgress, OnHold, Resolved, Reopened, Closed}

// Action is something done to a complaint.
type Action string

// The actions of the lifecycle table.
const (
	Register             Action = "register"
	Route                Action = "route"
	RouteNone            Action = "route_unrouted"
	Assign               Action = "assign"
	Acknowledge          Action = "acknowledge"
	RequestInformation   Action = "request_information"
	ProvideInformation   Action = "provide_information"
	Resume               Action = "resume"
	Resolve              Action = "resolve"
	Return               Action = "return"
	Transfer             Action = "transfer"
	Escalate             Action = "escalate"
	ProposeSpecial       Action = "propose_special_closure"
	ApproveSpecial       Action = "approve_special_closure"
	RejectSpecial        Action = "reject_special_closure"
	FeedbackSatisfied    Action = "feedback_satisfied"
	FeedbackNotSatisfied Action = "feedback_not_satisfied"
	FeedbackUnreachable  Action = "feedback_not_reachable"
	FeedbackExpire       Action = "feedback_expired"
	FollowUp             Action = "follow_up"
	Note                 Action = "note"
	Link                 Action = "link"
)

// Rule is one row of the lifecycle table.
type Rule struct {
	// From lists the states the action may start from.
	From []Status
	// To is the state after the action; empty keeps the state.
	To Status
	// Roles may perform the action.
	Roles []caller.Role
	// Event is the event type written, the last token of its subject.
	Event string
	// Guard, when set, refuses the action on a complaint flag beside the
	// state (e.g. a pending special closure), giving the reason.
	Guard func(r *Record) string
}

func noProposal(r *Record) string {
	if r.SpecialClosurePending {
		return "a special closure is already proposed"
	}
	return ""
}

func hasProposal(r *Record) string {
	if !r.SpecialClosurePending {
		return "no special closure is proposed"
	}
	return ""
}

var (
	notClosed = []Status{Registered, Unrouted, Assigned, InProgress, OnHold, Resolved, Reopened}
	// decidable: a special closure is decided only before resolution; once
	// RESOLVED the citizen is asked instead.
	decidable = []Status{Registered, Unrouted, Assigned, InProgress, OnHold, Reopened}
	working   = []Status{Assigned, InProgress, Reopened}
	system    = []caller.Role{caller.System}
	officer   = []caller.Role{caller.Officer}
	agent     = []caller.Role{caller.Agent}
	deciders  = []caller.Role{caller.Supervisor, caller.Admin, caller.Officer}
)

// Table is the lifecycle: for each action, where it may start, where it
// ends, who may do it and which event it writes. Nothing else changes a
// complaint's state.
var Table = map[Action]Rule{
	Register:             {From: nil, To: Registered, Roles: []caller.Role{caller.Agent, caller.Admin}, Event: "registered"},
	Route:                {From: []Status{Registered}, To: Assigned, Roles: system, Event: "assigned"},
	RouteNone:            {From: []Status{Registered}, To: Unrouted, Roles: system, Event: "unrouted"},
	Assign:               {From: []Status{Unrouted}, To: Assigned, Roles: []caller.Role{caller.Supervisor, caller.Admin}, Event: "assigned"},
	Acknowledge:          {From: []Status{Assigned, Reopened}, To: InProgress, Roles: officer, Event: "acknowledged"},
	RequestInformation:   {From: []Status{InProgress}, To: OnHold, Roles: officer, Event: "information_requested"},
	ProvideInformation:   {From: []Status{OnHold}, To: InProgress, Roles: agent, Event: "resumed"},
	Resume:               {From: []Status{OnHold}, To: InProgress, Roles: officer, Event: "resumed"},
	Resolve:              {From: []Status{InProgress}, To: Resolved, Roles: officer, Event: "resolved"},
	Return:               {From: working, To: Unrouted, Roles: officer, Event: "returned"},
	Transfer:             {From: working, To: Assigned, Roles: []caller.Role{caller.Officer, caller.Supervisor}, Event: "transferred"},
	Escalate:             {From: working, To: Assigned, Roles: system, Event: "escalated"},
	ProposeSpecial:       {From: working, Roles: officer, Event: "special_closure_proposed", Guard: noProposal},
	ApproveSpecial:       {From: decidable, To: Closed, Roles: deciders, Event: "special_closure_decided", Guard: hasProposal},
	RejectSpecial:        {From: decidable, Roles: deciders, Event: "special_closure_decided", Guard: hasProposal},
	FeedbackSatisfied:    {From: []Status{Resolved}, To: Closed, Roles: agent, Event: "closed"},
	FeedbackNotSatisfied: {From: []Status{Resolved}, To: Reopened, Roles: agent, Event: "reopened"},
	FeedbackUnreachable:  {From: []Status{Resolved}, Roles: agent, Event: "feedback_recorded"},
	FeedbackExpire:       {From: []Status{Resolved}, To: Closed, Roles: system, Event: "closed"},
	FollowUp:             {From: notClosed, Roles: agent, Event: "follow_up_added"},
	// The system notes why it left a complaint for the supervisor (no held post above).
	Note: {From: notClosed, Roles: []caller.Role{caller.Officer, caller.Supervisor, caller.System}, Event: "note_added"},
	Link: {From: AllStatuses, Roles: []caller.Role{caller.Officer, caller.Supervisor}, Event: "note_added"},
}

// Allows reports whether action may start from status.
func (r Rule) Allows(status Status) bool { return slices.Contains(r.From, status) }

// Permits reports whether role may perform the action; background jobs act as System.
func (r Rule) Permits(role caller.Role) bool { return slices.Contains(r.Roles, role) }

// Next returns the state after the action from status.
func (r Rule) Next(status Status) Status {
	if r.To == "" {
		return status
	}
	return r.To
}
