// Minimal Socket.IO 4 chat server: a benchmark peer for Papo (see ../README.md).
//
//   PORT     listen on 127.0.0.1:PORT (0 = any free port)
//   PERSIST  unset = keep nothing; otherwise path of an SQLite database
//            where every message is committed before it is acknowledged
'use strict';

const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.env.PORT ?? 0);
const persistPath = process.env.PERSIST || null;

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'] });

// --- persistence (optional) -------------------------------------------------

let db = null;
let insertBatch = null;
if (persistPath) {
  const Database = require('better-sqlite3');
  db = new Database(persistPath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    author TEXT NOT NULL,
    content TEXT NOT NULL,
    created_at TEXT NOT NULL
  )`);
  const insert = db.prepare(
    'INSERT INTO messages (room, author, content, created_at) VALUES (?, ?, ?, ?)'
  );
  // One transaction (one fsync) for everything queued since the last flush.
  insertBatch = db.transaction((batch) => {
    for (const { msg } of batch) {
      msg.id = Number(insert.run(msg.room, msg.author, msg.content, msg.created_at).lastInsertRowid);
    }
  });
}

let nextId = 1; // used when nothing is persisted
let queue = [];

function publish({ msg, ack }) {
  io.to(msg.room).emit('message', msg);
  ack({ id: msg.id });
}

// Group commit: messages arriving in the same turn of the event loop are
// written in one transaction, then broadcast and acknowledged.
function flush() {
  const batch = queue;
  queue = [];
  try {
    insertBatch(batch);
  } catch (err) {
    console.error('insert failed:', err.message);
    for (const { ack } of batch) ack({ error: 'not stored' });
    return;
  }
  batch.forEach(publish);
}

// --- connections ------------------------------------------------------------

io.on('connection', (socket) => {
  const auth = socket.handshake.auth ?? {};
  const user = String(auth.user ?? '');
  const room = String(auth.room ?? '');
  // `presence: false` joins without announcing (big rooms, as Papo's large servers).
  const announce = auth.presence !== false;

  if (room) {
    socket.join(room);
    if (announce) {
      socket.to(room).emit('presence', { user, status: 'online' });
      socket.on('disconnect', () => {
        socket.to(room).emit('presence', { user, status: 'offline' });
      });
    }
  }

  socket.on('send', (data, ack) => {
    if (typeof ack !== 'function') return;
    const { room: to, content } = data ?? {};
    if (typeof to !== 'string' || !to || typeof content !== 'string') {
      ack({ error: 'room and content are required' });
      return;
    }
    const msg = { id: 0, room: to, author: user, content, created_at: new Date().toISOString() };
    if (!db) {
      msg.id = nextId++;
      publish({ msg, ack });
      return;
    }
    queue.push({ msg, ack });
    if (queue.length === 1) setImmediate(flush);
  });
});

httpServer.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${httpServer.address().port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (db) db.close();
    process.exit(0);
  });
}
