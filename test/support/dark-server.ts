// A server that accepts TCP connections and never answers: what a cluster
// behind a dead load balancer or a hung API server looks like to a client.
import { createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";

/** A running dark server. */
export interface DarkServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  close(): Promise<void>;
}

/** Starts a server on a free loopback port that accepts every connection and stays silent. */
export async function startDarkServer(): Promise<DarkServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    accepted: () => accepted,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
