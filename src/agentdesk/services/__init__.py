"""Use cases the UI calls: Qt-free, each returns frozen DTOs (see :mod:`agentdesk.services.dto`).

:class:`Services` and :func:`build_services` are loaded on first use, so a start-up that only
logs in (:mod:`agentdesk.services.auth`) does not wait for every use case's modules first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdesk.services.container import Services, build_services

__all__ = ["Services", "build_services"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from agentdesk.services import container

        return getattr(container, name)
    msg = f"module 'agentdesk.services' has no attribute {name!r}"
    raise AttributeError(msg)
