"""Accounts use cases: register, login, refresh rotation, logout, devices, disable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rtserver.auth.passwords import PasswordHasher
from rtserver.auth.throttle import LoginThrottle
from rtserver.auth.tokens import AccessTokens, new_refresh_token, refresh_token_hash
from rtserver.clock import Clock
from rtserver.domain.accounts import (
    Device,
    Principal,
    Role,
    User,
    login_is_valid,
    normalize_login,
    password_problem,
)
from rtserver.errors import Forbidden, Invalid, NotFound, Unauthenticated
from rtserver.ids import new_id
from rtserver.services.connections import LiveConnections
from rtserver.store.database import Database
from rtserver.store.transaction import Transaction


@dataclass(frozen=True)
class AuthSession:
    user: User
    device: Device
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


class AccountService:
    def __init__(
        self,
        database: Database,
        hasher: PasswordHasher,
        tokens: AccessTokens,
        throttle: LoginThrottle,
        connections: LiveConnections,
        clock: Clock,
        *,
        refresh_ttl: timedelta,
        password_min_length: int,
    ) -> None:
        self._db = database
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._connections = connections
        self._clock = clock
        self._refresh_ttl = refresh_ttl
        self._password_min_length = password_min_length

    async def create_user(self, login: str, password: str, display_name: str, role: Role) -> User:
        normalized = normalize_login(login)
        if not login_is_valid(normalized):
            raise Invalid(
                "login must be 3-64 characters: letters, digits and . _ @ + -",
                code="invalid_login",
            )
        problem = password_problem(password, self._password_min_length, normalized)
        if problem:
            raise Invalid(f"password {problem}", code="weak_password")
        display = " ".join(display_name.split())
        if not display:
            raise Invalid("display name must not be blank", code="invalid_display_name")
        password_hash = await self._hasher.hash(password)
        user = User(
            id=new_id(),
            login=normalized,
            display_name=display,
            role=role,
            created_at=self._clock.now(),
            disabled_at=None,
        )
        async with self._db.write() as tx:
            await tx.users.add(user, password_hash)
        return user

    async def user_id_of(self, login: str) -> str | None:
        """For seeding and tools: the id of the account with this login, if any."""
        async with self._db.read() as tx:
            found = await tx.users.by_login(login)
        return found[0].id if found else None

    async def register(
        self, login: str, password: str, display_name: str, device_name: str, ip: str
    ) -> AuthSession:
        """Self-service sign-up is for clients only; other roles are created by an admin."""
        await self._throttle.check_ip(ip)
        user = await self.create_user(login, password, display_name, Role.CLIENT)
        async with self._db.write() as tx:
            return await self._open_device(tx, user, device_name)

    async def login(self, login: str, password: str, device_name: str, ip: str) -> AuthSession:
        normalized = normalize_login(login)
        await self._throttle.check(normalized, ip)
        async with self._db.read() as tx:
            found = await tx.users.by_login(normalized)
        ok = await self._hasher.verify(found[1] if found else None, password)
        if not found or not ok:
            await self._throttle.failed(normalized)
            raise Unauthenticated("wrong login or password", code="invalid_credentials")
        user = found[0]
        if not user.active:
            raise Forbidden("this account is disabled", code="account_disabled")
        await self._throttle.succeeded(normalized)
        async with self._db.write() as tx:
            return await self._open_device(tx, user, device_name)

    async def refresh(self, refresh_token: str) -> AuthSession:
        """Rotate a refresh token. Presenting an already-rotated one revokes the whole family:
        either the client or a thief holds a copy, and we cannot tell which."""
        now = self._clock.now()
        reused_device: tuple[str, str] | None = None
        async with self._db.write() as tx:
            grant = await tx.refresh_tokens.by_hash(refresh_token_hash(refresh_token))
            if grant is None or grant.revoked_at is not None or grant.expires_at <= now:
                raise Unauthenticated(
                    "refresh token unknown, revoked or expired", code="invalid_refresh_token"
                )
            if grant.replaced_at is not None or not await tx.refresh_tokens.mark_replaced(
                grant.id, now
            ):
                await self._revoke_device(tx, grant.device_id, now)
                reused_device = (grant.device_id, grant.user_id)
            else:
                pair = await tx.devices.active_pair(grant.user_id, grant.device_id)
                if pair is None or not pair[1].active:
                    raise Unauthenticated("device signed out", code="invalid_refresh_token")
                if not pair[0].active:
                    raise Forbidden("this account is disabled", code="account_disabled")
                return await self._issue(tx, pair[0], pair[1])
        await self._connections.close_device(reused_device[0], "refresh_token_reused")
        raise Unauthenticated(
            "refresh token was already used; this device has been signed out",
            code="refresh_token_reused",
        )

    async def authenticate(self, access_token: object) -> Principal:
        """Verify the token, then that its user and device are still active."""
        principal = self._tokens.verify(access_token, self._clock.now())
        async with self._db.read() as tx:
            pair = await tx.devices.active_pair(principal.user_id, principal.device_id)
        if pair is None or not pair[1].active:
            raise Unauthenticated("this device has been signed out", code="device_revoked")
        if not pair[0].active:
            raise Forbidden("this account is disabled", code="account_disabled")
        return principal

    async def logout(self, principal: Principal) -> None:
        async with self._db.write() as tx:
            await self._revoke_device(tx, principal.device_id, self._clock.now())
        await self._connections.close_device(principal.device_id, "logged_out")

    async def devices(self, principal: Principal) -> list[Device]:
        async with self._db.read() as tx:
            return await tx.devices.of_user(principal.user_id)

    async def revoke_device(self, principal: Principal, device_id: str) -> None:
        async with self._db.write() as tx:
            device = await tx.devices.get(device_id)
            if device is None or device.user_id != principal.user_id:
                raise NotFound("no such device", code="device_not_found")
            await self._revoke_device(tx, device_id, self._clock.now())
        await self._connections.close_device(device_id, "device_revoked")

    async def disable_user(self, principal: Principal, user_id: str) -> None:
        if principal.role is not Role.ADMIN:
            raise Forbidden("only an admin can disable accounts")
        if user_id == principal.user_id:
            raise Invalid("an admin cannot disable their own account", code="cannot_disable_self")
        now = self._clock.now()
        async with self._db.write() as tx:
            if await tx.users.get(user_id) is None:
                raise NotFound("no such user", code="user_not_found")
            await tx.users.disable(user_id, now)
            for device_id in await tx.devices.revoke_all_of_user(user_id, now):
                await tx.refresh_tokens.revoke_device(device_id, now)
        await self._connections.close_user(user_id, "account_disabled")

    async def _open_device(self, tx: Transaction, user: User, device_name: str) -> AuthSession:
        name = " ".join(device_name.split()) or "device"
        now = self._clock.now()
        device = Device(
            id=new_id(),
            user_id=user.id,
            name=name,
            created_at=now,
            last_seen_at=now,
            revoked_at=None,
        )
        await tx.devices.add(device)
        return await self._issue(tx, user, device)

    async def _issue(self, tx: Transaction, user: User, device: Device) -> AuthSession:
        now = self._clock.now()
        refresh = new_refresh_token()
        refresh_expires = now + self._refresh_ttl
        await tx.refresh_tokens.add(
            new_id(), refresh_token_hash(refresh), user.id, device.id, now, refresh_expires
        )
        await tx.devices.touch(device.id, now)
        access, access_expires = self._tokens.issue(user.id, device.id, user.role, now)
        return AuthSession(
            user=user,
            device=device,
            access_token=access,
            access_expires_at=access_expires,
            refresh_token=refresh,
            refresh_expires_at=refresh_expires,
        )

    @staticmethod
    async def _revoke_device(tx: Transaction, device_id: str, now: datetime) -> None:
        await tx.devices.revoke(device_id, now)
        await tx.refresh_tokens.revoke_device(device_id, now)
