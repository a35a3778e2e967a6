import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, kinds, readyRule } from "./cel.js";

/** external-secrets and Sealed Secrets. */
export const SECRET_RULES: readonly HealthRuleSpec[] = [
  readyRule({
    name: "external-secret",
    match: [...kinds("external-secrets.io", "ExternalSecret", "ClusterExternalSecret", "PushSecret")],
    failureReasons: ["SecretSyncedError", "SecretMissing", "Errored", "NotReady"],
  }),
  readyRule({
    name: "external-secrets-store",
    match: [...kinds("external-secrets.io", "SecretStore", "ClusterSecretStore")],
    failureReasons: ["InvalidStoreConfiguration", "InvalidProviderConfig", "ValidationFailed"],
  }),
  {
    // The controller writes Synced once it tried to unseal; False means the data cannot be decrypted with its keys.
    name: "sealed-secret",
    match: kinds("bitnami.com", "SealedSecret"),
    degraded: cond("Synced", "False"),
    progressing: `!('Synced' in conditions)`,
    healthy: cond("Synced", "True"),
    message: `'Synced' in conditions ? (${cond("Synced", "True")} ? 'unsealed' : ${conditionMessage("Synced", "cannot unseal")}) : 'waiting for the controller to unseal it'`,
  },
];
