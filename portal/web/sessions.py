"""Server-side sessions kept in the database, so any worker can serve any request.

The cookie holds only a random session ID. On login the ID is replaced (no session
fixation); on logout the row is deleted, so a copied cookie stops working at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty

from portal.accounts.tables import WebSession

SESSION_COOKIE = "portal_session"
SESSION_HOURS = 12


def _now() -> datetime:
    return datetime.now(UTC)


class DatabaseStore(Store):
    """Litestar's `Store` over the `web_session` table."""

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        expires_at = None
        if expires_in is not None:
            seconds = expires_in if isinstance(expires_in, int) else expires_in.total_seconds()
            expires_at = _now() + timedelta(seconds=seconds)
        updated = (
            await WebSession.update({WebSession.value: data, WebSession.expires_at: expires_at})
            .where(WebSession.key == key)
            .returning(WebSession.key)
        )
        if not updated:
            await WebSession.insert(WebSession(key=key, value=data, expires_at=expires_at))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = (
            await WebSession.select(WebSession.value, WebSession.expires_at)
            .where(WebSession.key == key)
            .first()
        )
        if row is None:
            return None
        if row["expires_at"] is not None and _as_utc(row["expires_at"]) <= _now():
            await self.delete(key)
            return None
        if renew_for is not None:
            await self.set(key, row["value"], renew_for)
        return bytes(row["value"])

    async def delete(self, key: str) -> None:
        await WebSession.delete().where(WebSession.key == key)

    async def delete_all(self) -> None:
        await WebSession.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await WebSession.select(WebSession.expires_at).where(WebSession.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return int((_as_utc(row["expires_at"]) - _now()).total_seconds())

    async def delete_expired(self) -> None:
        await WebSession.delete().where(WebSession.expires_at < _now())


def _as_utc(moment: datetime) -> datetime:
    # SQLite gives naive datetimes back; everything the portal writes is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


ROTATE = "portal.rotate_session"


LOADED = "portal.session_loaded"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's backend, with three changes.

    The session gets a fresh ID when the handler asked for it (`rotate_session`); an
    empty session of an anonymous visitor is never stored (no row per page view);
    and a session that did not change is not written back on every request.
    """

    async def load_from_connection(self, connection: Any) -> dict[str, Any]:
        data = await super().load_from_connection(connection)
        connection.scope.setdefault("state", {})[LOADED] = dict(data)
        return data

    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        state = connection.scope.setdefault("state", {})
        has_cookie = bool(connection.cookies.get(self.config.key))
        if scope_session is not Empty and not scope_session:
            if not has_cookie:
                return
            scope_session = Empty
        if (
            scope_session is not Empty
            and not state.get(ROTATE)
            and has_cookie
            and scope_session == state.get(LOADED)
        ):
            return
        await super().store_in_message(scope_session, message, connection)

    def get_session_id(self, connection: Any) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(ROTATE):
            fresh = state.get("portal.fresh_session_id")
            if fresh is None:
                fresh = state["portal.fresh_session_id"] = self.generate_session_id()
            return str(fresh)
        return super().get_session_id(connection)


def rotate_session(request: Any) -> None:
    """Call when privileges change (login, second factor): the old ID stops working."""
    request.scope.setdefault("state", {})[ROTATE] = True


def session_config(secure: bool) -> ServerSideSessionConfig:
    config = ServerSideSessionConfig(
        key=SESSION_COOKIE,
        store="sessions",
        max_age=SESSION_HOURS * 3600,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    config._backend_class = RotatingSessionBackend
    return config
