"""The seed's checklists (setup, daily operations, monthly review) as executable checks."""

from multiaccount.checklists.items import (
    CHECKLISTS,
    CheckResult,
    ChecklistContext,
    Status,
    record_checklist,
    run_checklist,
)

__all__ = ["CHECKLISTS", "CheckResult", "ChecklistContext", "Status", "record_checklist", "run_checklist"]
