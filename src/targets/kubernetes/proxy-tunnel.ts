import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";

type Callback = (error: Error | null, socket?: Duplex) => void;

/** Opens a tunnel to `host:port` through an HTTP CONNECT proxy and hands over the raw socket. */
function connectThrough(proxy: URL, host: string, port: number, callback: (error: Error | null, socket?: Socket) => void): void {
  const authority = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const headers: http.OutgoingHttpHeaders = { host: authority };
  if (proxy.username) headers["proxy-authorization"] = `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64")}`;
  const send = proxy.protocol === "https:" ? https.request : http.request;
  const req = send({ host: proxy.hostname, port: proxy.port || (proxy.protocol === "https:" ? 443 : 80), method: "CONNECT", path: authority, headers, agent: false });
  let done = false;
  const finish = (error: Error | null, socket?: Socket): void => {
    if (done) return;
    done = true;
    callback(error, socket);
  };
  req.once("connect", (res, socket) => {
    if (res.statusCode !== 200) {
      socket.destroy();
      finish(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: ${res.statusCode} ${res.statusMessage ?? ""}`.trim()));
      return;
    }
    finish(null, socket);
  });
  req.once("error", (error) => finish(new Error(`proxy ${proxy.host}: ${error.message}`, { cause: error })));
  req.end();
}

/**
 * An agent that reaches the API server through the kubeconfig's `proxy-url`
 * with HTTP CONNECT (as kubectl does for HTTPS servers, and here for plain
 * HTTP ones too): TLS, when the server speaks it, runs inside the tunnel.
 */
export function proxyAgent(proxyUrl: string, secure: boolean, tlsOptions: tls.ConnectionOptions): http.Agent {
  const proxy = new URL(proxyUrl);
  if (proxy.protocol !== "http:" && proxy.protocol !== "https:") throw new Error(`proxy-url ${proxy.protocol}// is not supported (only http:// and https:// CONNECT proxies)`);
  const create = (options: { host?: string | null; hostname?: string | null; port?: number | string | null; servername?: string }, callback: Callback): undefined => {
    const host = options.hostname ?? options.host ?? "localhost";
    const port = Number(options.port ?? (secure ? 443 : 80));
    connectThrough(proxy, host, port, (error, socket) => {
      if (error || !socket) return callback(error ?? new Error("no socket"));
      if (!secure) return callback(null, socket);
      const secured = tls.connect({ ...tlsOptions, socket, servername: options.servername ?? (/^[\d.:]+$/.test(host) ? undefined : host) });
      secured.once("secureConnect", () => callback(null, secured));
      secured.once("error", (e) => callback(e));
      return undefined;
    });
    return undefined;
  };
  const AgentClass = secure ? https.Agent : http.Agent;
  const agent = new AgentClass({ keepAlive: true, maxSockets: 32, ...tlsOptions });
  // Node's agents accept an asynchronous createConnection that answers through its callback.
  (agent as unknown as { createConnection: typeof create }).createConnection = create;
  return agent;
}
