/** The dashboard's calls to the daemon's admin API, with the session token this tab keeps. */

const TOKEN_KEY = "floatip.dashboard.token";
const CALL_TIMEOUT_MS = 5000;

/** The daemon refused the token (expired, revoked) or the password. */
export class AuthError extends Error {}

interface ErrorBody {
  error?: { code?: string; message?: string };
}

export function hasSession(): boolean {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

export function endSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["authorization"] = `Bearer ${token}`;
  const res = await fetch(path, {
    method,
    headers,
    body: method === "POST" ? JSON.stringify(body ?? {}) : null,
    cache: "no-store",
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const json = (await res.json().catch(() => ({}))) as T & ErrorBody;
  const problem = json.error ? `${json.error.code}: ${json.error.message}` : undefined;
  if (res.status === 401) throw new AuthError(problem ?? "not authorized");
  if (!res.ok) throw new Error(problem ?? `HTTP ${res.status}`);
  return json;
}

/** Signs in with the hacluster password and keeps the token for this tab; the one place the login happens. */
export async function signIn(username: string, password: string): Promise<void> {
  const answer = await call<{ token: string }>("POST", "/remote/auth", { username, password });
  sessionStorage.setItem(TOKEN_KEY, answer.token);
}
