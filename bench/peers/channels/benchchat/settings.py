"""Settings of the Django Channels benchmark peer (see ../../README.md).

Environment:
  CHANNEL_LAYER  memory (default) or redis
  REDIS_URL      for CHANNEL_LAYER=redis, default redis://127.0.0.1:6379
  PERSIST        unset = no database; otherwise path of the SQLite database
"""

import os

from django.core.exceptions import ImproperlyConfigured

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "papo-bench-peer-not-a-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = ["channels", "chat"]
MIDDLEWARE = []
ROOT_URLCONF = "benchchat.urls"
ASGI_APPLICATION = "benchchat.asgi.application"

USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PERSIST = os.environ.get("PERSIST") or None
if PERSIST:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": PERSIST,
            # Durable: every committed message is fsynced before the ack.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"},
        }
    }
else:
    DATABASES = {}

_layer = os.environ.get("CHANNEL_LAYER", "memory")
if _layer == "memory":
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
elif _layer == "redis":
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
                        # redis-py 8 caps a connection pool at 100 connections by
                        # default (it was unbounded up to 7.x) and raises "Too many
                        # connections" instead of waiting. Every consumer awaiting a
                        # layer call holds one connection, so more than 100 clients
                        # connecting or disconnecting at once failed (handshakes
                        # answered with HTTP 500, disconnect handlers crashing).
                        # 10,000 is Redis's own default maxclients.
                        "max_connections": 10000,
                    }
                ]
            },
        }
    }
else:
    raise ImproperlyConfigured(f"CHANNEL_LAYER must be memory or redis, not {_layer!r}")
