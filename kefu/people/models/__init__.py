"""Models of people management, one module per part (attendance, ledger, pay, …)."""

from .attendance import (
    AttendanceCorrection,
    AttendanceDay,
    ClockEvent,
    LeaveRequest,
    PeopleSettings,
)
from .bonus import RankingAward, RankingRule, SpecialBonus, Wish
from .handover import AccountHandover, HandoverItem
from .ledger import (
    LedgerMonth,
    MonthClose,
    PenaltyAppeal,
    PenaltyDeduction,
    PenaltyRule,
    PenaltyWarning,
)
from .onboarding import (
    ExamAttempt,
    ExamQuestion,
    Onboarding,
    OnboardingDay,
    OnboardingEvent,
    TrainingDay,
    TrainingPlan,
)
from .pay import CommissionPlan, CommissionStatement, StatementLine
from .typing_results import TypingResult

__all__ = [
    "AttendanceCorrection", "AttendanceDay", "ClockEvent", "LeaveRequest", "PeopleSettings",
    "LedgerMonth", "MonthClose", "PenaltyAppeal", "PenaltyDeduction", "PenaltyRule", "PenaltyWarning",
    "AccountHandover", "HandoverItem", "TypingResult", "RankingAward", "RankingRule", "SpecialBonus", "Wish",
    "CommissionPlan", "CommissionStatement", "StatementLine",
    "ExamAttempt", "ExamQuestion", "Onboarding", "OnboardingDay", "OnboardingEvent", "TrainingDay", "TrainingPlan",
]
