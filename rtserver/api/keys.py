"""Typed application keys: the services a handler may reach through `request.app`."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from aiohttp import web

from rtserver.clock import Clock
from rtserver.services.accounts import AccountService
from rtserver.services.booking import BookingService
from rtserver.services.booking_availability import AvailabilityService
from rtserver.services.booking_calendar import CalendarService
from rtserver.services.calls import CallService
from rtserver.services.conversations import ConversationService
from rtserver.services.keys import KeyService
from rtserver.services.messages import MessageService
from rtserver.services.notifications import NotificationService
from rtserver.services.screening import ScreeningService
from rtserver.settings import Settings
from rtserver.store.database import Database

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
ACCOUNTS = web.AppKey("accounts", AccountService)
CONVERSATIONS = web.AppKey("conversations", ConversationService)
MESSAGES = web.AppKey("messages", MessageService)
KEYS = web.AppKey("keys", KeyService)
CLOCK = web.AppKey("clock", Clock)
TURN_SECRET = web.AppKey("turn_secret", str)
REDIS = web.AppKey("redis", aioredis.Redis)
# set while the Socket.IO fan-out is subscribed to Redis and this node's rooms are recorded
FANOUT_LISTENING = web.AppKey("fanout_listening", asyncio.Event)
AVAILABILITY = web.AppKey("availability", AvailabilityService)
BOOKINGS = web.AppKey("bookings", BookingService)
CALENDAR = web.AppKey("calendar", CalendarService)
SCREENING = web.AppKey("screening", ScreeningService)
NOTIFICATIONS = web.AppKey("notifications", NotificationService)
CALLS = web.AppKey("calls", CallService)
