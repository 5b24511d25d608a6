export interface FieldError {
  code: string;
  message: string;
  /** `too_long` / `too_short` of text: the most or fewest characters allowed. */
  limit?: number;
}

export interface ApiErrorInit {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, FieldError> | undefined;
  retryAfter?: number | null | undefined;
}

/** An error answered by the Papo API (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, FieldError>;
  /** Seconds to wait before retrying (429 rate_limited), if known. */
  readonly retryAfter: number | null;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.fields = init.fields ?? {};
    this.retryAfter = init.retryAfter ?? null;
  }

  static network(cause: unknown): ApiError {
    const message = cause instanceof Error ? cause.message : 'Network request failed';
    return new ApiError({ status: 0, code: 'network_error', message });
  }

  /** Builds an ApiError from a non-2xx response, tolerating non-JSON bodies. */
  static async fromResponse(res: Response): Promise<ApiError> {
    let body: unknown = null;
    try {
      const text = await res.text();
      body = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      body = null;
    }
    const obj = isRecord(body) ? body : {};
    const code = typeof obj.code === 'string' && obj.code ? obj.code : codeForStatus(res.status);
    const message = typeof obj.message === 'string' ? obj.message : res.statusText || code;
    return new ApiError({
      status: res.status,
      code,
      message,
      fields: parseFields(obj.fields),
      retryAfter: parseRetryAfter(obj.retry_after, res.headers.get('Retry-After')),
    });
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_json';
    case 401:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 413:
      return 'payload_too_large';
    case 422:
      return 'validation_failed';
    case 429:
      return 'rate_limited';
    default:
      return status >= 500 ? 'internal_error' : 'unknown_error';
  }
}

function parseFields(raw: unknown): Record<string, FieldError> {
  const out: Record<string, FieldError> = {};
  if (!isRecord(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (!isRecord(value)) continue;
    const code = typeof value.code === 'string' ? value.code : 'invalid_value';
    const message = typeof value.message === 'string' ? value.message : code;
    const limit = typeof value.limit === 'number' && Number.isInteger(value.limit) && value.limit >= 0 ? value.limit : null;
    out[name] = limit === null ? { code, message } : { code, message, limit };
  }
  return out;
}

function parseRetryAfter(body: unknown, header: string | null): number | null {
  if (typeof body === 'number' && Number.isFinite(body) && body >= 0) return Math.ceil(body);
  if (header !== null) {
    const n = Number(header.trim());
    if (Number.isFinite(n) && n >= 0) return Math.ceil(n);
  }
  return null;
}

/** A field error found before asking the server, shaped like its answer (`field → code`). */
export function localFieldErrors(fields: Readonly<Record<string, string>>): ApiError {
  return new ApiError({
    status: 422,
    code: 'validation_failed',
    message: 'invalid',
    fields: Object.fromEntries(Object.entries(fields).map(([name, code]) => [name, { code, message: code }])),
  });
}
