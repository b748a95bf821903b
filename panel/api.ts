import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";

/** The AdminService client of the panel. */
export type Admin = Client<typeof AdminService>;

const TOKEN_KEY = "disio.adminToken";

/**
 * The admin token: from the URL fragment `#token=…` (saved, then removed from the address bar so
 * it does not linger in history), else from sessionStorage.
 */
export function takeToken(): string | undefined {
  const match = /(?:^#|[&#])token=([^&]*)/.exec(location.hash);
  if (match) {
    const token = decodeURIComponent(match[1] ?? "");
    sessionStorage.setItem(TOKEN_KEY, token);
    history.replaceState(null, "", `${location.pathname}#/projects`);
    return token;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

/** Keeps the token for this tab. */
export function saveToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

/** Forgets the token. */
export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** An AdminService client on this page's origin (the manager), sending the bearer token. */
export function adminClient(token: string): Admin {
  const auth: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
  return createClient(AdminService, createConnectTransport({ baseUrl: location.origin, useBinaryFormat: true, interceptors: [auth] }));
}

/** Whether an error means the token was refused. */
export function isRefused(error: unknown): boolean {
  const code = ConnectError.from(error).code;
  return code === Code.Unauthenticated || code === Code.PermissionDenied;
}

/** The message of an error for a person. */
export function errorText(error: unknown): string {
  const e = ConnectError.from(error);
  return e.rawMessage || e.message;
}

/**
 * Runs a server stream for as long as `signal` is not aborted, opening it again (after 0.5 s, then
 * up to 5 s) whenever it ends or fails, e.g. while the manager restarts. `open` gets the attempt's
 * signal; `onLive(true/false)` tells when messages flow or the stream is down.
 */
export async function keepStreaming<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (message: T) => void,
  options: { signal: AbortSignal; onLive?: (live: boolean, error?: unknown) => void; onRefused?: () => void },
): Promise<void> {
  let delay = 500;
  while (!options.signal.aborted) {
    try {
      for await (const message of open(options.signal)) {
        delay = 500;
        options.onLive?.(true);
        onMessage(message);
      }
    } catch (error) {
      if (options.signal.aborted) return;
      if (isRefused(error)) return options.onRefused?.();
      options.onLive?.(false, error);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(5_000, delay * 2);
  }
}
