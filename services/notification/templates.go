package notification

import (
	"fmt"
	"strings"
	"time"

	"github.com/helpline/helpline/internal/clock"
)

// facts is what a template may say about a complaint.
type facts struct {
	Docket, Helpline, Category, CategoryHi, District, Post, ATR, Closure string
	// Reason and DuplicateOf are an approved special closure's.
	Reason, DuplicateOf string
	Level               int
	Due                 *time.Time
}

func due(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.In(clock.IST).Format("02-01-2006")
}

// citizenMessage renders a message to the citizen in Hindi or English.
func citizenMessage(kind, language string, f facts) string {
	hindi := strings.HasPrefix(language, "hi")
	switch kind {
	case "registered":
		if hindi {
			return fmt.Sprintf("आपकी शिकायत दर्ज हो गई है। डॉकेट संख्या %s। स्थिति जानने के लिए %s पर कॉल करें।", f.Docket, f.Helpline)
		}
		return fmt.Sprintf("Your complaint is registered. Docket %s. Call %s to know its status.", f.Docket, f.Helpline)
	case "resolved":
		if hindi {
			return fmt.Sprintf("आपकी शिकायत %s का समाधान किया गया: %s। हम आपसे प्रतिक्रिया के लिए संपर्क करेंगे।", f.Docket, clip(f.ATR))
		}
		return fmt.Sprintf("Your complaint %s was resolved: %s. We will call you for your feedback.", f.Docket, clip(f.ATR))
	case "closed":
		why := map[string][2]string{
			"SATISFIED":   {"आपकी संतुष्टि के साथ", "with your satisfaction"},
			"NO_RESPONSE": {"आपसे संपर्क न हो पाने के कारण", "as we could not reach you"},
			"SPECIAL":     {"विशेष निर्णय द्वारा", "by a special decision"},
		}[f.Closure]
		if hindi {
			return fmt.Sprintf("आपकी शिकायत %s %s बंद कर दी गई है। धन्यवाद। हेल्पलाइन %s", f.Docket, why[0], f.Helpline)
		}
		return fmt.Sprintf("Your complaint %s is closed %s. Thank you. Helpline %s", f.Docket, why[1], f.Helpline)
	case "special_closure_approved":
		why := map[string][2]string{
			"policy_matter":   {"यह एक नीतिगत विषय है", "it is a policy matter"},
			"sub_judice":      {"मामला न्यायालय में विचाराधीन है", "the matter is before a court"},
			"not_a_grievance": {"यह शिकायत की श्रेणी में नहीं आता", "it is not a grievance"},
			"duplicate":       {"यह शिकायत " + f.DuplicateOf + " की दोहराई गई शिकायत है", "it is a duplicate of complaint " + f.DuplicateOf},
		}[f.Reason]
		if why[0] == "" {
			why = [2]string{"विशेष निर्णय द्वारा", "by a special decision"}
		}
		if hindi {
			return fmt.Sprintf("आपकी शिकायत %s बंद कर दी गई है, क्योंकि %s। जानकारी के लिए हेल्पलाइन %s पर कॉल करें।", f.Docket, why[0], f.Helpline)
		}
		return fmt.Sprintf("Your complaint %s is closed without further action because %s. Call helpline %s to know more.", f.Docket, why[1], f.Helpline)
	}
	return ""
}

// officerMessage renders a message to the post holder, in English and Hindi.
func officerMessage(kind string, f facts) string {
	switch kind {
	case "escalated":
		return fmt.Sprintf("Escalated to you (L%d, %s): complaint %s, %s, %s, due %s. / शिकायत %s आपको अग्रेषित, निपटान तिथि %s।",
			f.Level, f.Post, f.Docket, f.Category, f.District, due(f.Due), f.Docket, due(f.Due))
	case "special_closure_rejected":
		return fmt.Sprintf("Special closure rejected: complaint %s (%s, %s) stays open at %s, due %s. / शिकायत %s को विशेष रूप से बंद करने का प्रस्ताव अस्वीकृत।",
			f.Docket, f.Category, f.District, f.Post, due(f.Due), f.Docket)
	case "reopened":
		return fmt.Sprintf("Reopened, citizen not satisfied (L%d, %s): complaint %s, %s, %s, due %s. / शिकायत %s पुनः खोली गई, निपटान तिथि %s।",
			f.Level, f.Post, f.Docket, f.Category, f.District, due(f.Due), f.Docket, due(f.Due))
	default:
		return fmt.Sprintf("New complaint at %s: %s, %s, %s, due %s. / नई शिकायत %s, निपटान तिथि %s।",
			f.Post, f.Docket, f.Category, f.District, due(f.Due), f.Docket, due(f.Due))
	}
}

// clip shortens text for an SMS.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 160 {
		return string(r[:157]) + "..."
	}
	return s
}
