import path from "node:path";
import type { TargetEntry } from "../registry-types.js";
import { hostKindSchemas } from "./host-schemas.js";
import { createHostTarget, hostValidator } from "./host-target.js";
import { hostKindOrder } from "./kind-order.js";

/** The host target: files, services and jobs on the machine the agent runs on, under its root. */
export const hostEntry: TargetEntry = {
  name: "host",
  validator: (options) => hostValidator(options.root),
  create: (options) => [createHostTarget({ root: options.root, stateDir: path.join(options.stateDir, "host") })],
  agentOptions: ["root", "stateDir"],
  kindOrder: hostKindOrder,
  kindSchemas: hostKindSchemas,
};
