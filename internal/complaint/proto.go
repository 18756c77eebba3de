package complaint

import (
	"strings"
	"time"

	helplinev1 "github.com/helpline/helpline/api/helpline/v1"
	"github.com/helpline/helpline/internal/caller"
	"github.com/helpline/helpline/internal/input"
)

// StatusProto maps a state to its enum.
func StatusProto(s Status) helplinev1.ComplaintStatus {
	if s == "" {
		return helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED
	}
	return helplinev1.ComplaintStatus(helplinev1.ComplaintStatus_value["COMPLAINT_STATUS_"+string(s)])
}

// StatusFromProto maps an enum to a state; "" for unspecified.
func StatusFromProto(s helplinev1.ComplaintStatus) Status {
	if s == helplinev1.ComplaintStatus_COMPLAINT_STATUS_UNSPECIFIED {
		return ""
	}
	return Status(strings.TrimPrefix(s.String(), "COMPLAINT_STATUS_"))
}

// ChannelProto maps a stored channel to its enum.
func ChannelProto(c string) helplinev1.Channel {
	return helplinev1.Channel(helplinev1.Channel_value["CHANNEL_"+c])
}

// ChannelFromProto maps a channel enum to its stored name; "" for unspecified or unknown.
func ChannelFromProto(c helplinev1.Channel) string {
	if c == helplinev1.Channel_CHANNEL_UNSPECIFIED {
		return ""
	}
	if _, ok := helplinev1.Channel_name[int32(c)]; !ok {
		return ""
	}
	return strings.TrimPrefix(c.String(), "CHANNEL_")
}

// ClosureProto maps a stored closure to its enum.
func ClosureProto(c string) helplinev1.Closure {
	return helplinev1.Closure(helplinev1.Closure_value["CLOSURE_"+c])
}

// RoleProto maps a caller role to its enum (unspecified for system and anonymous).
func RoleProto(r caller.Role) helplinev1.Role {
	return helplinev1.Role(helplinev1.Role_value["ROLE_"+string(r)])
}

// View says how a complaint is shown.
type View struct {
	// MaskPhone hides the middle of the citizen's phone and the status
	// page's secret (officers, supervisors).
	MaskPhone bool
	// Now decides the overdue flag.
	Now time.Time
}

// ToProto renders r (and its history, when given) for a caller.
func ToProto(r *Record, history []HistoryEntry, v View) *helplinev1.Complaint {
	phone := r.CitizenPhone
	if v.MaskPhone {
		phone = input.MaskPhone(phone)
	}
	c := &helplinev1.Complaint{
		Id:      r.ID,
		Docket:  r.Docket,
		Version: r.Version,
		Status:  StatusProto(r.Status),
		Citizen: &helplinev1.Citizen{Name: r.CitizenName, Phone: phone, Language: r.CitizenLanguage},
		Location: &helplinev1.Location{
			DistrictCode: r.DistrictCode, BlockCode: r.BlockCode, WardCode: r.WardCode,
			Locality: r.Locality, Address: r.Address,
		},
		CategoryCode:          r.CategoryCode,
		DepartmentCode:        r.DepartmentCode,
		Post:                  r.PostCode,
		AssignedOfficer:       r.Officer,
		Level:                 int32(r.Level),
		SlaDueAt:              ts(r.SLADueAt),
		Overdue:               r.Overdue(v.Now),
		CreatedAt:             ts(&r.CreatedAt),
		UpdatedAt:             ts(&r.UpdatedAt),
		ResolvedAt:            ts(r.ResolvedAt),
		ClosedAt:              ts(r.ClosedAt),
		Closure:               ClosureProto(r.Closure),
		ReopenCount:           int32(r.ReopenCount),
		FollowUpCount:         int32(r.FollowUpCount),
		SpecialClosurePending: r.SpecialClosurePending,
		Description:           r.Description,
		Channel:               ChannelProto(r.Channel),
		Helpline:              r.Helpline,
		ActionTakenReport:     r.ActionTakenReport,
		LinkedDockets:         r.LinkedDockets,
		FeedbackAttempts:      int32(r.FeedbackAttempts),
		RegisteredBy:          r.RegisteredBy,
		FlaggedForSupervisor:  r.SupervisorFlag != "",
		SupervisorFlagReason:  r.SupervisorFlag,
	}
	if !v.MaskPhone {
		c.StatusToken = r.StatusToken
	}
	if r.SpecialClosurePending {
		c.SpecialClosure = &helplinev1.SpecialClosureProposal{
			Reason: r.SpecialReason, DuplicateOf: r.SpecialDuplicateOf, ProposedBy: r.SpecialProposer, Note: r.SpecialNote,
		}
	}
	for _, h := range history {
		c.History = append(c.History, &helplinev1.HistoryEntry{
			Version:        h.Version,
			Action:         h.Action,
			FromStatus:     StatusProto(h.FromStatus),
			ToStatus:       StatusProto(h.ToStatus),
			Actor:          h.Actor,
			ActorRole:      RoleProto(caller.Role(h.ActorRole)),
			Note:           h.Note,
			At:             ts(&h.At),
			DepartmentCode: h.DepartmentCode,
			CategoryCode:   h.CategoryCode,
			Post:           h.PostCode,
			Level:          int32(h.Level),
			SlaDueAt:       ts(h.SLADueAt),
		})
	}
	return c
}
