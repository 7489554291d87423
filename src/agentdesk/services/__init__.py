"""Use cases the UI calls: Qt-free, each returns frozen DTOs (see :mod:`agentdesk.services.dto`)."""

from agentdesk.services.container import Services, build_services

__all__ = ["Services", "build_services"]
