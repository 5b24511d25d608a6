// Frames of the gateway protocol v1 (docs/gateway.md). No React, no DOM.

import { isPresence, isServerDetail, normalizeServerDetail } from '../api/guards';
import { readStatesFrom } from '../api/messageGuards';
import type { Channel, CurrentUser, ReadState, Server, ServerDetail } from '../api/types';

/** What a session can ask for. */
export type PresenceStatus = 'online' | 'idle' | 'dnd' | 'invisible';
/** What a presence can look like: others see `invisible` as `offline`. */
export type ObservedStatus = PresenceStatus | 'offline';

export const PRESENCE_STATUSES: readonly PresenceStatus[] = ['online', 'idle', 'dnd', 'invisible'];

export interface CustomStatus {
  text: string;
  emoji?: string | null;
  /** RFC 3339 */
  expires_at?: string | null;
}

export interface Presence {
  user_id: string;
  status: ObservedStatus;
  custom_status: CustomStatus | null;
}

export interface PresenceUpdate {
  status: PresenceStatus;
  custom_status: CustomStatus | null;
}

export interface HelloData {
  heartbeat_interval_ms: number;
}

export interface ReadyData {
  session_id: string;
  user: CurrentUser;
  /** The servers the user is in (absent from servers older than the servers slice). */
  servers?: ServerDetail[];
  presences: Presence[];
  /** What the user has read, per text channel (absent from servers older than the messages slice). */
  read_states?: ReadState[];
  resume_window_ms?: number;
}

export interface ResumedData {
  replayed: number;
  /** Presences as they are now: presence changes are not replayed (they carry no `s`). */
  presences?: Presence[];
}

export interface GatewayErrorData {
  code: string;
  message: string;
  /** The nonce of the refused `message_create` (absent for other ops). */
  nonce?: string;
  /** Invalid fields by name (as REST's 422). */
  fields?: Record<string, { code: string; message: string }>;
  /** Seconds to wait (as REST's 429). */
  retry_after?: number;
}

/** A `message_create` was committed (or its nonce had been, `created: false`). */
export interface MessageAckData {
  nonce: string;
  created: boolean;
  /** The message as REST answers it (checked by the caller). */
  message: unknown;
}

/** `message_create` data: the body of `POST /channels/{id}/messages` plus the channel. */
export interface MessageCreateData {
  channel_id: string;
  content: string;
  nonce: string;
  reply_to?: string;
}

export interface DispatchEvent {
  t: string;
  d: unknown;
  s: number;
}

/** Events whose payload we know. */
export interface KnownEvents {
  'user.updated': CurrentUser;
  'presence.updated': Presence;
  'typing.started': { channel_id: string; server_id: string; user_id: string; expires_at_ms: number };
  'server.created': ServerDetail;
  'server.updated': Server;
  'server.deleted': { id: string };
  'channel.created': Channel;
  'channel.updated': Channel;
  'channel.deleted': { id: string; server_id: string };
}

export type ServerFrame =
  | { op: 'hello'; d: HelloData }
  | { op: 'ready'; d: ReadyData }
  | { op: 'heartbeat_ack' }
  | { op: 'event'; t: string; d: unknown; s: number | null }
  | { op: 'resumed'; d: ResumedData }
  | { op: 'invalid_session'; d: { resumable: boolean } }
  | { op: 'message_ack'; d: MessageAckData }
  | { op: 'error'; d: GatewayErrorData };

export type ClientFrame =
  | { op: 'identify'; d: { token: string } }
  | { op: 'resume'; d: { token: string; session_id: string; seq: number } }
  | { op: 'heartbeat'; d: { seq: number } | null }
  | { op: 'presence_update'; d: PresenceUpdate }
  | { op: 'typing_start'; d: { channel_id: string } }
  | { op: 'message_create'; d: MessageCreateData };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const DEFAULT_HEARTBEAT_MS = 30_000;
/** Heartbeat bounds we accept from the server (a bogus 0 must not spin). */
const MIN_HEARTBEAT_MS = 1_000;
const MAX_HEARTBEAT_MS = 300_000;

/**
 * Parses one text frame from the server. Returns null for anything that is not
 * a well-formed frame with a known op (the caller logs and ignores it).
 */
export function parseFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.op !== 'string') return null;
  const d = value.d;
  switch (value.op) {
    case 'hello': {
      const ms = isRecord(d) && typeof d.heartbeat_interval_ms === 'number' ? d.heartbeat_interval_ms : NaN;
      const interval = Number.isFinite(ms)
        ? Math.min(MAX_HEARTBEAT_MS, Math.max(MIN_HEARTBEAT_MS, ms))
        : DEFAULT_HEARTBEAT_MS;
      return { op: 'hello', d: { heartbeat_interval_ms: interval } };
    }
    case 'ready':
      if (!isRecord(d) || typeof d.session_id !== 'string' || !isRecord(d.user)) return null;
      return {
        op: 'ready',
        d: {
          session_id: d.session_id,
          user: d.user as unknown as CurrentUser,
          ...(Array.isArray(d.servers)
            ? { servers: d.servers.filter(isServerDetail).map(normalizeServerDetail) }
            : {}),
          presences: Array.isArray(d.presences) ? d.presences.filter(isPresence) : [],
          ...(Array.isArray(d.read_states) ? { read_states: readStatesFrom(d.read_states) } : {}),
          ...(typeof d.resume_window_ms === 'number' ? { resume_window_ms: d.resume_window_ms } : {}),
        },
      };
    case 'heartbeat_ack':
      return { op: 'heartbeat_ack' };
    case 'event':
      if (typeof value.t !== 'string') return null;
      return {
        op: 'event',
        t: value.t,
        d: d ?? null,
        s: typeof value.s === 'number' && Number.isFinite(value.s) ? value.s : null,
      };
    case 'resumed':
      return {
        op: 'resumed',
        d: {
          replayed: isRecord(d) && typeof d.replayed === 'number' ? d.replayed : 0,
          ...(isRecord(d) && Array.isArray(d.presences) ? { presences: d.presences.filter(isPresence) } : {}),
        },
      };
    case 'invalid_session':
      return { op: 'invalid_session', d: { resumable: isRecord(d) && d.resumable === true } };
    case 'message_ack':
      if (!isRecord(d) || typeof d.nonce !== 'string' || !isRecord(d.message)) return null;
      return { op: 'message_ack', d: { nonce: d.nonce, created: d.created !== false, message: d.message } };
    case 'error':
      return {
        op: 'error',
        d: {
          code: isRecord(d) && typeof d.code === 'string' ? d.code : 'unknown_error',
          message: isRecord(d) && typeof d.message === 'string' ? d.message : '',
          ...(isRecord(d) && typeof d.nonce === 'string' ? { nonce: d.nonce } : {}),
          ...(isRecord(d) && isRecord(d.fields) ? { fields: fieldsOf(d.fields) } : {}),
          ...(isRecord(d) && typeof d.retry_after === 'number' ? { retry_after: d.retry_after } : {}),
        },
      };
    default:
      return null;
  }
}

function fieldsOf(raw: Record<string, unknown>): Record<string, { code: string; message: string }> {
  const out: Record<string, { code: string; message: string }> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (isRecord(value) && typeof value.code === 'string') {
      out[name] = { code: value.code, message: typeof value.message === 'string' ? value.message : '' };
    }
  }
  return out;
}

export { isPresence };

export function encodeFrame(frame: ClientFrame): string {
  return JSON.stringify(frame);
}
