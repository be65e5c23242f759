"""The people API under /api/v1/: one router per part, joined here."""

from ninja import Router

from . import attendance, bonus, handover, ledger, onboarding, pay, typing_results

router = Router()
router.add_router("", attendance.router)
router.add_router("", ledger.router)
router.add_router("", pay.router)
router.add_router("", onboarding.router)
router.add_router("", handover.router)
router.add_router("", typing_results.router)
router.add_router("", bonus.router)
