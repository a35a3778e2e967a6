import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AgeError, decryptAge, encryptAge, generateIdentity, parseIdentity, parseIdentityFile } from "./age.js";
import { encodeBech32 } from "./bech32.js";

const hasAge = spawnSync("age", ["--version"]).status === 0 && spawnSync("age-keygen", ["--help"]).error === undefined;

describe("age", () => {
  test("what Ferry encrypts, Ferry decrypts (armored and binary, empty, one chunk, several chunks)", () => {
    const { identity, recipient } = generateIdentity();
    const me = parseIdentity(identity);
    assert.equal(me.recipient, recipient);
    for (const size of [0, 5, 64 * 1024, 64 * 1024 + 1, 200_000]) {
      const plain = Buffer.alloc(size, 7);
      assert.deepEqual(decryptAge(encryptAge(plain, [recipient]), [me]), plain);
      assert.deepEqual(decryptAge(encryptAge(plain, [recipient], { armor: true }), [me]), plain);
    }
  });

  test("a wrong key, a tampered header or payload, and junk are refused", () => {
    const a = generateIdentity();
    const b = generateIdentity();
    const sealed = encryptAge(Buffer.from("hunter2"), [a.recipient]) as Buffer;
    assert.throws(() => decryptAge(sealed, [parseIdentity(b.identity)]), (e: unknown) => e instanceof AgeError && /no identity matches/.test(e.message));
    const tamperedPayload = Buffer.from(sealed);
    const lastByte = tamperedPayload.length - 1;
    tamperedPayload.writeUInt8(tamperedPayload.readUInt8(lastByte) ^ 1, lastByte);
    assert.throws(() => decryptAge(tamperedPayload, [parseIdentity(a.identity)]), /altered/);
    const tamperedHeader = Buffer.from(sealed.toString("latin1").replace("X25519", "X25519 extra"), "latin1");
    assert.throws(() => decryptAge(tamperedHeader, [parseIdentity(a.identity)]), AgeError);
    assert.throws(() => decryptAge(Buffer.from("not age at all\n"), [parseIdentity(a.identity)]), /not an age v1 file/);
  });

  test("a low-order X25519 recipient or share is refused with a clear error, not a crypto library code", () => {
    // 0 and 1 are points of small order on Curve25519: any key times them is all zeros.
    const lowOrder = [Buffer.alloc(32), Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])];
    for (const point of lowOrder) {
      const recipient = encodeBech32("age", point);
      assert.throws(() => encryptAge(Buffer.from("x"), [recipient]), (e: unknown) => e instanceof AgeError && e.message === `invalid X25519 recipient ${recipient}: a low-order point (no shared secret can come of it)`);
      const a = generateIdentity();
      const sealed = (encryptAge(Buffer.from("hunter2"), [a.recipient]) as Buffer).toString("latin1");
      const forged = Buffer.from(sealed.replace(/-> X25519 [A-Za-z0-9+/]+/, `-> X25519 ${point.toString("base64").replace(/=+$/, "")}`), "latin1");
      assert.throws(() => decryptAge(forged, [parseIdentity(a.identity)]), (e: unknown) => e instanceof AgeError && /^invalid X25519 share in the file's header \(the file is malformed\): a low-order point/.test(e.message));
    }
  });

  test("an identity file with a bad line is refused naming the line, never its content", () => {
    const { identity } = generateIdentity();
    assert.equal(parseIdentityFile(`# created: now\n# public key: age1...\n${identity}\n`, "keys.txt").length, 1);
    assert.throws(() => parseIdentityFile(`${identity}\nAGE-SECRET-KEY-1NOTAKEY\n`, "keys.txt"), (e: unknown) => e instanceof AgeError && e.message === "keys.txt:2: not an age identity: expected AGE-SECRET-KEY-1... (X25519 keys only)");
    assert.throws(() => parseIdentityFile("# nothing\n", "keys.txt"), /holds no age identity/);
  });

  test("interoperates with the age command: it decrypts ours, we decrypt its", { skip: hasAge ? false : "the age command is not installed (apt-get install age)" }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-age-"));
    try {
      const keyFile = join(dir, "key.txt");
      execFileSync("age-keygen", ["-o", keyFile], { stdio: "ignore" });
      const [identity] = parseIdentityFile(await import("node:fs").then((fs) => fs.readFileSync(keyFile, "utf8")), keyFile);
      assert.ok(identity);
      const plain = Buffer.from("s3cret value\nwith two lines");
      const theirs = execFileSync("age", ["-a", "-r", identity.recipient], { input: plain });
      assert.deepEqual(decryptAge(theirs.toString("utf8"), [identity]), plain);
      const theirsBinary = execFileSync("age", ["-r", identity.recipient], { input: Buffer.alloc(150_000, 3) });
      assert.deepEqual(decryptAge(theirsBinary, [identity]), Buffer.alloc(150_000, 3));
      await writeFile(join(dir, "ours.age"), encryptAge(plain, [identity.recipient]) as Buffer);
      assert.deepEqual(execFileSync("age", ["-d", "-i", keyFile, join(dir, "ours.age")]), plain);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
