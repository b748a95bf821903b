import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { Logger } from "pino";
import type { HttpListener } from "./http-listener.js";
import { classifyPreface } from "./http2-preface.js";

/** A connection that sends no complete first bytes within this time is dropped. */
const PEEK_TIMEOUT_MS = 10_000;
/** After `graceMs`, streams are told to end; sockets still open this much later are destroyed. */
const STREAM_END_MS = 500;
const DRAIN_POLL_MS = 20;
/** Node's default time for the headers of an HTTP/1.1 request, kept unless the request timeout is shorter. */
const HTTP1_HEADERS_TIMEOUT_MS = 60_000;
/** Node's default interval of its HTTP/1.1 request-timeout checks, kept unless the timeout is shorter. */
const HTTP1_CHECK_INTERVAL_MS = 30_000;

/**
 * Connections the kernel may hold for us before we accept them: as many as the port may hold
 * (capped by the kernel's `net.core.somaxconn`), not node's 511. Thousands of browsers connect in
 * bursts (a ramp, a reconnect after a restart, a stalled page's retries), and a connection dropped
 * from a full queue waits for its SYN to be resent, 1, 3, 7… seconds later.
 */
function listenBacklog(maxConnections: number): number {
  return Math.max(511, Math.min(maxConnections, 65_535));
}

/** A TCP port that serves HTTP/1.1 and h2c through one listener. */
export interface OnePortListener {
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting, lets open requests finish, and closes idle connections; after `graceMs` calls
   * `endStreams` (which should make long-running handlers return), and destroys what is still open
   * shortly after.
   */
  close(graceMs: number, endStreams: () => void): Promise<void>;
}

/** What a connection may hold of the port: see the ServerOptions of the same names. */
export interface ConnectionLimits {
  http2IdleTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

/**
 * Listens on one TCP port and routes each connection by its first bytes: the HTTP/2 client preface
 * goes to a `node:http2` server (h2c with prior knowledge: gRPC, Connect), anything else to a
 * `node:http` server (HTTP/1.1: Connect, gRPC-Web, plain GETs). Both servers call `listener`.
 * Garbage makes the HTTP/1 parser answer 400 and close that one connection. Connections past the
 * caps are closed on accept; HTTP/2 connections without a stream and requests that do not arrive
 * in time are timed out as node times out HTTP/1.1 ones.
 */
export async function listenOnePort(options: {
  host: string;
  port: number;
  listener: HttpListener;
  limits: ConnectionLimits;
  log: Logger;
}): Promise<OnePortListener> {
  const { log, limits } = options;
  let draining = false;
  const sockets = new Set<net.Socket>();
  const peeking = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();

  // HTTP/1 sockets with their number of unfinished requests, so draining can close idle ones now
  // and busy ones right after their last response (the http server only tracks this when it listens
  // itself, which ours never does).
  const http1Active = new Map<net.Socket, number>();
  const onHttp1Done = (socket: net.Socket): void => {
    const n = (http1Active.get(socket) ?? 1) - 1;
    http1Active.set(socket, n);
    if (n === 0 && draining) socket.end();
  };

  const listener: HttpListener = (req, res) => {
    if (req.httpVersionMajor === 1) {
      const socket = req.socket;
      http1Active.set(socket, (http1Active.get(socket) ?? 0) + 1);
      res.once("close", () => onHttp1Done(socket));
      if (draining) res.setHeader("connection", "close");
    }
    options.listener(req, res);
  };
  const http1 = http.createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: Math.min(HTTP1_HEADERS_TIMEOUT_MS, limits.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(HTTP1_CHECK_INTERVAL_MS, limits.requestTimeoutMs),
    },
    listener,
  );
  // Node starts the HTTP/1 header and request timeout checks (its slowloris defence) when the
  // server emits 'listening'; ours never listens itself, the TCP server hands it connections.
  http1.emit("listening");
  const h2 = http2.createServer(listener);
  h2.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (draining) session.close();
    closeWhenIdle(session, limits.http2IdleTimeoutMs);
  });
  h2.on("stream", (stream) => resetUnlessComplete(stream, limits.requestTimeoutMs));
  h2.on("sessionError", (error) => log.debug({ err: error }, "http2 session error"));
  http1.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    log.debug({ code: error.code }, "bad http/1 request, closing connection");
    if (socket.writable && error.code !== "ECONNRESET") {
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    }
    socket.destroy();
  });

  const route = (socket: net.Socket): void => {
    let head: Buffer | undefined;
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const kind = classifyPreface(head);
      if (kind === "more") return;
      socket.removeListener("data", onData);
      socket.removeListener("timeout", onTimeout);
      socket.setTimeout(0);
      peeking.delete(socket);
      // Give the bytes back so the chosen server parses them from the start: http2 reads what is
      // buffered when its session starts; http/1 gets it as 'data' once the socket flows again.
      socket.pause();
      socket.unshift(head);
      if (kind === "h2") {
        h2.emit("connection", socket);
      } else {
        http1Active.set(socket, 0);
        socket.once("close", () => http1Active.delete(socket));
        http1.emit("connection", socket);
        socket.resume();
      }
    };
    const onTimeout = (): void => {
      socket.destroy();
    };
    peeking.add(socket);
    socket.on("data", onData);
    socket.setTimeout(PEEK_TIMEOUT_MS, onTimeout);
  };

  const perAddress = new Map<string, number>();
  const tcp = net.createServer((socket) => {
    const address = socket.remoteAddress ?? "";
    const fromAddress = perAddress.get(address) ?? 0;
    if (draining || fromAddress >= limits.maxConnectionsPerAddress) {
      if (!draining) log.debug({ address, limit: limits.maxConnectionsPerAddress }, "too many connections from one address, closing");
      socket.destroy();
      return;
    }
    perAddress.set(address, fromAddress + 1);
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      peeking.delete(socket);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    // Resets and aborted peers surface here; the servers handle their own sockets' errors too.
    socket.on("error", (error: NodeJS.ErrnoException) => log.debug({ code: error.code }, "socket error"));
    socket.setNoDelay(true);
    route(socket);
  });

  tcp.maxConnections = limits.maxConnections;
  tcp.on("drop", (data?: { remoteAddress?: string }) =>
    log.debug({ address: data?.remoteAddress, limit: limits.maxConnections }, "too many connections, closing"),
  );
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen({ port: options.port, host: options.host, backlog: listenBacklog(limits.maxConnections) }, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  tcp.on("error", (error) => log.error({ err: error }, "listener error"));
  const address = tcp.address() as net.AddressInfo;

  const allClosed = async (withinMs: number): Promise<boolean> => {
    const until = Date.now() + withinMs;
    while (sockets.size > 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    return sockets.size === 0;
  };

  return {
    port: address.port,
    async close(graceMs, endStreams) {
      draining = true;
      const tcpClosed = new Promise<void>((resolve) => tcp.close(() => resolve()));
      for (const socket of peeking) socket.destroy();
      for (const session of sessions) session.close();
      for (const [socket, active] of http1Active) if (active === 0) socket.end();
      if (!(await allClosed(graceMs))) {
        endStreams();
        if (!(await allClosed(STREAM_END_MS))) {
          log.warn({ connections: sockets.size }, "closing connections still open after grace");
          for (const session of sessions) session.destroy();
          for (const socket of sockets) socket.destroy();
        }
      }
      http1.close();
      await tcpClosed;
    },
  };
}

/**
 * Closes (GOAWAY) an HTTP/2 session once it has had no open stream for `idleMs`: from its start, and
 * after each last stream ends. PINGs and SETTINGS do not keep it open; an open stream does. A
 * session still there `idleMs` after the GOAWAY with no stream open (one whose headers never
 * completed holds a graceful close forever) is destroyed.
 */
function closeWhenIdle(session: http2.ServerHttp2Session, idleMs: number): void {
  let open = 0;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    timer = setTimeout(() => {
      session.close();
      timer = setTimeout(() => {
        if (open === 0) session.destroy();
      }, idleMs);
      timer.unref();
    }, idleMs);
    timer.unref();
  };
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    clearTimeout(timer);
    stream.once("close", () => {
      if (--open === 0 && !session.closed && !session.destroyed) arm();
    });
  });
  session.once("close", () => clearTimeout(timer));
  arm();
}

/**
 * Resets (CANCEL) an HTTP/2 stream whose request body has not ended `timeoutMs` after its headers.
 * Once the caller has sent all of its request the stream may run for as long as the handler sends.
 */
function resetUnlessComplete(stream: http2.ServerHttp2Stream, timeoutMs: number): void {
  const timer = setTimeout(() => {
    if (!stream.destroyed && stream.state.remoteClose !== 1) stream.close(http2.constants.NGHTTP2_CANCEL);
  }, timeoutMs);
  timer.unref();
  stream.once("close", () => clearTimeout(timer));
}
