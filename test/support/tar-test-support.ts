import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";

/** One entry of a tar archive built by a test; any name, type and link may be written, hostile ones included. */
export interface TarEntry {
  readonly name: string;
  /** `0` file (default), `5` directory, `2` symlink, `1` hard link, `3` char device, `6` FIFO. */
  readonly type?: "0" | "1" | "2" | "3" | "5" | "6";
  readonly content?: string;
  readonly mode?: number;
  readonly linkName?: string;
  /** Write the name in a pax extended header instead of the ustar name field. */
  readonly pax?: boolean;
}

/** A gzipped ustar archive of the entries, as `tar czf` would write it. */
export function makeTarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(makeTar(entries));
}

/** An uncompressed ustar archive of the entries, ending in two zero blocks. */
export function makeTar(entries: readonly TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.content ?? "", "utf8");
    if (entry.pax) {
      const record = paxRecord("path", entry.name);
      blocks.push(header({ name: "PaxHeader", type: "x", size: record.length, mode: 0o644 }), pad(record));
    }
    const type = entry.type ?? "0";
    const name = entry.pax ? "placeholder-name" : entry.name;
    blocks.push(header({ name, type, size: type === "0" ? body.length : 0, mode: entry.mode ?? (type === "5" ? 0o755 : 0o644), linkName: entry.linkName ?? "" }));
    if (type === "0") blocks.push(pad(body));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** `sha256:<hex>` of bytes. */
export function sha256Of(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function header(fields: { name: string; type: string; size: number; mode: number; linkName?: string }): Buffer {
  const block = Buffer.alloc(512);
  block.write(fields.name, 0, 100, "utf8");
  block.write(octal(fields.mode, 7), 100, "latin1");
  block.write(octal(0, 7), 108, "latin1");
  block.write(octal(0, 7), 116, "latin1");
  block.write(octal(fields.size, 11), 124, "latin1");
  block.write(octal(Math.floor(Date.now() / 1000), 11), 136, "latin1");
  block.write(fields.type, 156, "latin1");
  block.write(fields.linkName ?? "", 157, 100, "utf8");
  block.write("ustar\u000000", 257, "latin1");
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
  return block;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width, "0")}\u0000`;
}

function pad(data: Buffer): Buffer {
  const size = Math.ceil(data.length / 512) * 512;
  return Buffer.concat([data, Buffer.alloc(size - data.length)]);
}

function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return Buffer.from(`${length}${body}`, "utf8");
}
