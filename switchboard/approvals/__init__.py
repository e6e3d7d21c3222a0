"""The approvals inbox, shared by chat's tool confirmations and workflow steps.

It imports neither chat nor workflows: each registers a resume handler for its kind.
"""

from switchboard.approvals.models import FINAL_STATUSES, KINDS, Approval, ApprovalDecision
from switchboard.approvals.resume import ResumeHandler, expire_overdue, register_resume_handler, void_for_subject
from switchboard.approvals.service import decide, get, history, pending, pending_count, request_approval

__all__ = [
    "FINAL_STATUSES",
    "KINDS",
    "Approval",
    "ApprovalDecision",
    "ResumeHandler",
    "decide",
    "expire_overdue",
    "get",
    "history",
    "pending",
    "pending_count",
    "register_resume_handler",
    "request_approval",
    "void_for_subject",
]
