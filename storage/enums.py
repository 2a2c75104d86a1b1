"""The closed vocabularies of the registry.

Stored as strings with CHECK constraints (not native enums), so adding a
value is a one-line migration on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from enum import StrEnum


class MechanismKind(StrEnum):
    UPR = "upr"
    TREATY_BODY = "treaty_body"
    SPECIAL_PROCEDURE = "special_procedure"
    REGIONAL = "regional"
    OTHER = "other"


class RecommendationKind(StrEnum):
    RECOMMENDATION = "recommendation"
    CONCERN_OBSERVATION = "concern_observation"
    VOLUNTARY_PLEDGE = "voluntary_pledge"


class UprPosition(StrEnum):
    SUPPORTED = "supported"
    NOTED = "noted"


class Priority(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class ImportSource(StrEnum):
    UHRI = "uhri"
    UPRINFO = "uprinfo"
    TEMPLATE = "template"


class TagKind(StrEnum):
    THEME = "theme"
    SDG = "sdg"
    AFFECTED_PERSONS = "affected_persons"
    RECOMMENDING_STATE = "recommending_state"
    COUNTRY_CONCERNED = "country_concerned"
    REGION_CONCERNED = "region_concerned"
    RECOMMENDING_REGION = "recommending_region"
    RECOMMENDING_ORGANISATION = "recommending_organisation"
    UPRINFO_ACTION = "uprinfo_action"


class InstitutionKind(StrEnum):
    MINISTRY = "ministry"
    AGENCY = "agency"
    PARLIAMENT = "parliament"
    JUDICIARY = "judiciary"
    STATISTICS_OFFICE = "statistics_office"
    NHRI = "nhri"
    LOCAL_GOVERNMENT = "local_government"
    OTHER = "other"


class FocalPointRole(StrEnum):
    TECHNICAL = "technical"
    SENIOR = "senior"
    ALTERNATE = "alternate"
    VALIDATOR = "validator"


class SecretariatRole(StrEnum):
    """What a secretariat user may do. Each role includes the ones below it:
    a viewer reads reports and summaries; a coordinator also runs requests,
    deadlines, assignments and imports; an admin also manages people and the
    network (institutions, focal points, secretariat users)."""

    VIEWER = "viewer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, needed: SecretariatRole) -> bool:
        return self.rank >= needed.rank


_ROLE_RANK = {SecretariatRole.VIEWER: 0, SecretariatRole.COORDINATOR: 1, SecretariatRole.ADMIN: 2}


class Platform(StrEnum):
    TELEGRAM = "telegram"
    SLACK = "slack"


class AssignmentRole(StrEnum):
    LEAD = "lead"
    CONTRIBUTING = "contributing"


class DeadlineKind(StrEnum):
    TREATY_REPORT = "treaty_report"
    LIST_OF_ISSUES_REPLY = "list_of_issues_reply"
    FOLLOW_UP_INFORMATION = "follow_up_information"
    UPR_MIDTERM = "upr_midterm"
    UPR_NATIONAL_REPORT = "upr_national_report"
    INTERNAL_INPUT = "internal_input"
    INFORMATION_REQUEST = "information_request"


class ImplementationStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PARTIALLY_IMPLEMENTED = "partially_implemented"
    FULLY_IMPLEMENTED = "fully_implemented"
    NOT_APPLICABLE = "not_applicable"


class Channel(StrEnum):
    TELEGRAM = "telegram"
    SLACK = "slack"
    CLI = "cli"
    IMPORT = "import"


class EvidenceKind(StrEnum):
    LINK = "link"
    FILE = "file"


class OutboxKind(StrEnum):
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OVERDUE_DIGEST = "overdue_digest"
    UNREACHABLE_NOTICE = "unreachable_notice"
    INFORMATION_REQUEST = "information_request"
    # To an account a new invite took a focal point's access away from.
    ACCESS_MOVED = "access_moved"
    # Recommendations newly assigned to the reader's institution, a day's worth in one.
    ASSIGNMENT_NOTICE = "assignment_notice"
    # To a successor: their institution's open items and each one's last update.
    HANDOVER = "handover"
    # To the author of an input a validator returned: the comment, and a button to answer it.
    VALIDATION_RETURNED = "validation_returned"
    # To a focal point concerned: a deadline moved to another date, or was withdrawn.
    DEADLINE_CHANGED = "deadline_changed"
    # A turn's reply the platform would not take then (an outage outlasting
    # the transport's retries): sent when it takes messages again.
    CHAT_REPLY = "chat_reply"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    # Claimed by a sender and being sent; after a crash, found with its lease run out.
    SENDING = "sending"
    SENT = "sent"
    UNREACHABLE = "unreachable"
    # Withdrawn before sending: the person snoozed, or the item was answered.
    CANCELLED = "cancelled"


class ValidationDecision(StrEnum):
    APPROVED = "approved"
    # Sent back to the focal point with a comment, to be corrected.
    RETURNED = "returned"


class EvidenceFileState(StrEnum):
    """Where a file sent as evidence stands in being kept by the bot."""

    # To be downloaded (again, after a failed try, at next_attempt_at).
    PENDING = "pending"
    STORED = "stored"
    # Over the size limit: never downloaded; the person was told.
    REFUSED = "refused"
    # The platform will not give it (gone, or every try failed): the person was told.
    FAILED = "failed"


class BudgetImplications(StrEnum):
    """The Guide's third criterion: a recommendation that needs no new money
    is a quick win. Unset means nobody has said yet."""

    NONE = "none"
    SOME = "some"


class FollowUpSource(StrEnum):
    """Where a concluding observation's follow-up selection came from."""

    IMPORT = "import"
    SECRETARIAT = "secretariat"


class LinkDecision(StrEnum):
    """What the secretariat made of a suggested group of linked recommendations."""

    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class FrameworkKind(StrEnum):
    """A national plan an action can serve besides the recommendations."""

    HUMAN_RIGHTS_PLAN = "human_rights_plan"
    DEVELOPMENT_PLAN = "development_plan"
    OTHER = "other"


class ActionState(StrEnum):
    """Whether the secretariat has taken an action into the plan: one it
    creates is accepted at once; one a focal point proposes waits."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class IndicatorKind(StrEnum):
    """OHCHR's three kinds (HR/PUB/12/5): commitment, effort, result."""

    STRUCTURAL = "structural"
    PROCESS = "process"
    OUTCOME = "outcome"


class IndicatorFrequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class PledgeState(StrEnum):
    """A pledge an institution makes for a year: drafted, then confirmed by
    it; withdrawn rather than deleted."""

    DRAFT = "draft"
    CONFIRMED = "confirmed"
    WITHDRAWN = "withdrawn"


class PledgeOutcomeKind(StrEnum):
    """What became of a pledge, as its institution reports back at the year's end."""

    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not"
