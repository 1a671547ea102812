"""Cases: every complaint followed from opening to the reply to the citizen (docs/CASES.md).

The rules live in :mod:`.service` (opening, transitions, deadlines, the on-time share) and
:mod:`.reply` (the "you said, we did" message); the workspace views, the CLI and the worker
call them.
"""
from .reply import reply_message
from .service import on_time_share, open_cases_for_new_responses, overdue_cases

__all__ = ["open_cases_for_new_responses", "overdue_cases", "on_time_share", "reply_message"]
