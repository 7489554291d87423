"""What every view is handed: the task manager, the services and the logged-in session."""

from __future__ import annotations

from dataclasses import dataclass

from agentdesk.services import Services
from agentdesk.services.dto import UserSession
from agentdesk.ui.tasks import TaskManager

__all__ = ["UiContext"]


@dataclass
class UiContext:
    """Passed down from ``app.py``; views never build services themselves."""

    tasks: TaskManager
    services: Services
    session: UserSession
