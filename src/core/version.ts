import { readFileSync } from "node:fs";

/** Ferry's version, from its package.json (dist/src/core/ -> the package root). */
export const FERRY_VERSION: string = (JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }).version;
