import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * Ports a test hands to a server it starts later are taken below the system's
 * ephemeral range: a server that listens on port 0 (the agent's control API,
 * a client's outgoing connection) gets its port from that range, so it can
 * never be given a port a test handed out but has not bound yet. Within one
 * process a port is handed out once.
 */
const handedOut = new Set<number>();

/** A loopback port nobody listens on right now, below the ephemeral range, never returned twice by this process. */
export async function freePort(): Promise<number> {
  const [low, high] = candidateRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if (await isFree(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free loopback port found between ${low} and ${high}`);
}

/** The range to pick from: the 12,000 ports below the ephemeral range (Linux: ip_local_port_range). */
function candidateRange(): readonly [number, number] {
  let ephemeralLow = 32768;
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low !== undefined && Number.isInteger(low) && low > 2048) ephemeralLow = low;
  } catch {
    // Not Linux: the IANA ephemeral range starts at 49152, so 32768 is still below it.
  }
  return [Math.max(1024, ephemeralLow - 12_000), ephemeralLow];
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
