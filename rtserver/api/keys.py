"""Typed application keys: the services a handler may reach through `request.app`."""

from __future__ import annotations

import redis.asyncio as aioredis
from aiohttp import web

from rtserver.services.accounts import AccountService
from rtserver.services.conversations import ConversationService
from rtserver.services.messages import MessageService
from rtserver.settings import Settings
from rtserver.store.database import Database

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
ACCOUNTS = web.AppKey("accounts", AccountService)
CONVERSATIONS = web.AppKey("conversations", ConversationService)
MESSAGES = web.AppKey("messages", MessageService)
REDIS = web.AppKey("redis", aioredis.Redis)
