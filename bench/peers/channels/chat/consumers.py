import itertools
import json
import re
from datetime import datetime, timezone
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from .models import Message

# Rooms are Channels groups: ASCII letters, digits, "-", "_" or ".", fewer than 100.
ROOM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,99}")

# Message ids when nothing is persisted (one process, one event loop).
next_id = itertools.count(1)


class ChatConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope["query_string"].decode())
        self.user = query.get("user", [""])[0]
        self.room = query.get("room", [""])[0]
        # presence=0 joins without announcing (big rooms, as Papo's large servers).
        self.announce = query.get("presence", ["1"])[0] != "0"
        if self.room and not ROOM_NAME.fullmatch(self.room):
            self.room = ""
            await self.close()  # before accept: the handshake is refused (HTTP 403)
            return
        if self.room:
            # Announce before joining so that, as with Socket.IO's
            # socket.to(room), the newcomer does not get its own presence;
            # join before accepting so that the client is in the room once
            # its handshake completes.
            if self.announce:
                await self.presence("online")
            await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.room:
            await self.channel_layer.group_discard(self.room, self.channel_name)
            if self.announce:
                await self.presence("offline")

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        if data.get("type") != "send":
            return
        room, content, ack = data.get("room"), data.get("content"), data.get("ack")
        if not isinstance(room, str) or not ROOM_NAME.fullmatch(room) or not isinstance(content, str):
            await self.send(text_data=json.dumps({"type": "error", "ack": ack, "error": "bad room or content"}))
            return

        created_at = datetime.now(timezone.utc)
        if settings.PERSIST:
            row = await Message.objects.acreate(
                room=room, author=self.user, content=content, created_at=created_at
            )
            msg_id = row.id
        else:
            msg_id = next(next_id)
        message = {
            "type": "message",
            "id": msg_id,
            "room": room,
            "author": self.user,
            "content": content,
            "created_at": created_at.isoformat(),
        }
        # Serialized once here, not once per member.
        await self.channel_layer.group_send(room, {"type": "chat.message", "text": json.dumps(message)})
        await self.send(text_data=json.dumps({"type": "ack", "ack": ack, "id": msg_id}))

    async def presence(self, status):
        await self.channel_layer.group_send(
            self.room, {"type": "chat.presence", "user": self.user, "status": status}
        )

    # Group event handlers ("chat.message" -> chat_message).

    async def chat_message(self, event):
        await self.send(text_data=event["text"])

    async def chat_presence(self, event):
        await self.send(
            text_data=json.dumps({"type": "presence", "user": event["user"], "status": event["status"]})
        )
