"""The team's month (SPEC §11 WF-2 … WF-9, CONV-8): attendance, the penalty ledger, commissions,
daily sales reports, onboarding, reports up and account handover."""
