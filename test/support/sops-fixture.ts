import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { encryptAge } from "../../src/secrets/age.js";
import type { SopsValue } from "../../src/secrets/sops.js";
import { encryptSopsValue, sopsMac } from "../../src/secrets/sops.js";

type Plain = SopsValue | null | readonly Plain[] | { readonly [key: string]: Plain };

/**
 * A SOPS YAML document encrypted to one age recipient, built the way SOPS
 * builds one (data key wrapped with age, values with AES-256-GCM and their
 * path, MAC over every value). For tests and for examples; Ferry never writes
 * secrets itself.
 */
export function buildSopsYaml(plain: { readonly [key: string]: Plain }, recipient: string, options: { readonly encryptedRegex?: string; readonly lastModified?: string } = {}): string {
  const dataKey = randomBytes(32);
  const regex = options.encryptedRegex !== undefined ? new RegExp(options.encryptedRegex) : undefined;
  const lastModified = options.lastModified ?? "2026-11-23T12:00:00Z";
  const macValues: SopsValue[] = [];
  const walk = (value: Plain, path: readonly string[]): Plain => {
    if (value === null) return null;
    if (Array.isArray(value)) return (value as readonly Plain[]).map((v) => walk(v, path));
    if (typeof value === "object") return Object.fromEntries(Object.entries(value as { readonly [key: string]: Plain }).map(([k, v]) => [k, walk(v, [...path, k])]));
    const leaf = value as SopsValue;
    macValues.push(leaf);
    const encrypted = regex ? path.some((k) => regex.test(k)) : true;
    return encrypted ? encryptSopsValue(leaf, dataKey, `${path.join(":")}:`) : leaf;
  };
  const tree = walk(plain, []) as Record<string, Plain>;
  const sops = {
    age: [{ recipient, enc: encryptAge(dataKey, [recipient], { armor: true }) as string }],
    lastmodified: lastModified,
    mac: encryptSopsValue(sopsMac(macValues), dataKey, lastModified),
    ...(options.encryptedRegex !== undefined ? { encrypted_regex: options.encryptedRegex } : {}),
    version: "3.9.1",
  };
  return stringify({ ...tree, sops }, { lineWidth: 0 });
}
