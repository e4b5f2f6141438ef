/** The API's error: its code and message, and the request id to quote when reporting it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

const tokenKey = 'provisioner.token';

/** The user JWT lives in sessionStorage only: gone with the tab, never in a cookie or a URL. */
export const session = {
  token: (): string | null => sessionStorage.getItem(tokenKey),
  save: (token: string): void => sessionStorage.setItem(tokenKey, token),
  clear: (): void => sessionStorage.removeItem(tokenKey),
};

/** One JSON call of the API on this origin, with the user JWT when there is one. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, cache: 'no-store', ...(body !== undefined && { body: JSON.stringify(body) }) });
  } catch {
    throw new ApiError(0, 'network_error', 'The API could not be reached; check your connection and retry.', null);
  }
  const requestId = response.headers.get('x-request-id');
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`, requestId, error?.details);
  }
  return data as T;
}

export const enc = encodeURIComponent;
