"""Repositories for users, devices and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rtserver.domain.accounts import Device, RefreshGrant, Role, User
from rtserver.errors import Conflict
from rtserver.store.tables import DeviceRow, RefreshTokenRow, UserRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        login=row.login,
        display_name=row.display_name,
        role=Role(row.role),
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def _device(row: DeviceRow) -> Device:
    return Device(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        revoked_at=row.revoked_at,
    )


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, user: User, password_hash: str) -> None:
        self._session.add(
            UserRow(
                id=user.id,
                login=user.login,
                display_name=user.display_name,
                role=user.role.value,
                password_hash=password_hash,
                created_at=user.created_at,
                disabled_at=user.disabled_at,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError as exc:
            raise Conflict("that login is already taken", code="login_taken") from exc

    async def get(self, user_id: str) -> User | None:
        row = await self._session.get(UserRow, user_id)
        return _user(row) if row else None

    async def by_login(self, login: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        row = (
            await self._session.execute(select(UserRow).where(UserRow.login == login))
        ).scalar_one_or_none()
        return (_user(row), row.password_hash) if row else None

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._session.execute(
            update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash)
        )

    async def disable(self, user_id: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id, UserRow.disabled_at.is_(None))
            .values(disabled_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def count(self) -> int:
        return int((await self._session.execute(select(func.count(UserRow.id)))).scalar_one())


class DeviceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, device: Device) -> None:
        self._session.add(
            DeviceRow(
                id=device.id,
                user_id=device.user_id,
                name=device.name,
                created_at=device.created_at,
                last_seen_at=device.last_seen_at,
                revoked_at=device.revoked_at,
            )
        )
        await self._session.flush()

    async def get(self, device_id: str) -> Device | None:
        row = await self._session.get(DeviceRow, device_id)
        return _device(row) if row else None

    async def active_pair(self, user_id: str, device_id: str) -> tuple[User, Device] | None:
        """The user and device if both exist; used on every authenticated request."""
        row = (
            await self._session.execute(
                select(UserRow, DeviceRow)
                .join(DeviceRow, DeviceRow.user_id == UserRow.id)
                .where(UserRow.id == user_id, DeviceRow.id == device_id)
            )
        ).one_or_none()
        return (_user(row[0]), _device(row[1])) if row else None

    async def of_user(self, user_id: str) -> list[Device]:
        rows = await self._session.execute(
            select(DeviceRow).where(DeviceRow.user_id == user_id).order_by(DeviceRow.created_at)
        )
        return [_device(row) for row in rows.scalars()]

    async def touch(self, device_id: str, at: datetime) -> None:
        await self._session.execute(
            update(DeviceRow).where(DeviceRow.id == device_id).values(last_seen_at=at)
        )

    async def revoke(self, device_id: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(DeviceRow)
            .where(DeviceRow.id == device_id, DeviceRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_all_of_user(self, user_id: str, at: datetime) -> list[str]:
        ids = list(
            (
                await self._session.execute(
                    select(DeviceRow.id).where(
                        DeviceRow.user_id == user_id, DeviceRow.revoked_at.is_(None)
                    )
                )
            ).scalars()
        )
        if ids:
            await self._session.execute(
                update(DeviceRow).where(DeviceRow.id.in_(ids)).values(revoked_at=at)
            )
        return ids


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self,
        token_id: str,
        token_hash: str,
        user_id: str,
        device_id: str,
        created_at: datetime,
        expires_at: datetime,
    ) -> None:
        self._session.add(
            RefreshTokenRow(
                id=token_id,
                token_hash=token_hash,
                user_id=user_id,
                device_id=device_id,
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        await self._session.flush()

    async def by_hash(self, token_hash: str) -> RefreshGrant | None:
        row = (
            await self._session.execute(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return RefreshGrant(
            id=row.id,
            user_id=row.user_id,
            device_id=row.device_id,
            expires_at=row.expires_at,
            replaced_at=row.replaced_at,
            revoked_at=row.revoked_at,
        )

    async def mark_replaced(self, token_id: str, at: datetime) -> bool:
        """Claim a token for rotation; False if another request rotated it first."""
        result = await self._session.execute(
            update(RefreshTokenRow)
            .where(
                RefreshTokenRow.id == token_id,
                RefreshTokenRow.replaced_at.is_(None),
                RefreshTokenRow.revoked_at.is_(None),
            )
            .values(replaced_at=at)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def revoke_device(self, device_id: str, at: datetime) -> None:
        await self._session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.device_id == device_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
