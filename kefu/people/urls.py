from django.urls import path

from .views import attendance, handover, ledger, me, onboarding, pay

app_name = "people"
urlpatterns = [
    path("", me.me, name="me"),
    path("agents/<int:agent_id>/", me.agent_page, name="agent"),
    path("attendance/", attendance.attendance, name="attendance"),
    path("attendance/clock/", attendance.clock, name="clock"),
    path("attendance/<int:agent_id>/<str:date>/", attendance.day, name="day"),
    path("leave/", attendance.leave, name="leave"),
    path("leave/<int:leave_id>/<str:action>/", attendance.leave_decide, name="leave_decide"),
    path("points/", ledger.points, name="points"),
    path("points/deductions/", ledger.deduction_add, name="deduction_add"),
    path("points/deductions/<int:deduction_id>/reverse/", ledger.deduction_reverse, name="deduction_reverse"),
    path("points/deductions/<int:deduction_id>/appeal/", ledger.appeal_create, name="appeal_create"),
    path("months/<str:month>/<str:action>/", ledger.month_decide, name="month_decide"),
    path("appeals/", ledger.appeals, name="appeals"),
    path("appeals/<int:appeal_id>/<str:action>/", ledger.appeal_decide, name="appeal_decide"),
    path("pay/", pay.pay, name="pay"),
    path("pay/recompute/", pay.recompute, name="pay_recompute"),
    path("pay/plans/", pay.plan_save, name="plan_save"),
    path("pay/statements/<int:statement_id>/", pay.statement, name="statement"),
    path("rules/", ledger.rules, name="rules"),
    path("handovers/", handover.handovers, name="handovers"),
    path("handovers/start/", handover.handover_start, name="handover_start"),
    path("handovers/<int:handover_id>/", handover.handover_detail, name="handover"),
    path("handovers/<int:handover_id>/greeted/", handover.handover_greeted, name="handover_greeted"),
    path("onboarding/", onboarding.onboarding_list, name="onboarding_list"),
    path("onboarding/start/", onboarding.onboarding_start, name="onboarding_start"),
    path("onboarding/plan/", onboarding.training_plan, name="training_plan"),
    path("onboarding/plan/save/", onboarding.training_plan_save, name="training_plan_save"),
    path("onboarding/<int:onboarding_id>/", onboarding.onboarding_detail, name="onboarding"),
    path("onboarding/<int:onboarding_id>/<str:action>/", onboarding.onboarding_action, name="onboarding_action"),
]
