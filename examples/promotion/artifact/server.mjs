// The service a version ships: answers `version=<v> env=<env>` on /, `ok` on /healthz.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const version = readFileSync(new URL("VERSION", import.meta.url), "utf8").trim();

createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok\n");
  res.end(`version=${version} env=${process.env.ENV_NAME}\n`);
}).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
