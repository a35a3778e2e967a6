import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, kinds } from "./cel.js";

const notTrue = (type: string): string => `!${cond(type, "True")}`;
const say = (type: string, word: string): string => `${conditionMessage(type, word)}`;

/** Crossplane packages, definitions, and the managed and composite resources of every provider (Synced and Ready). */
export const CROSSPLANE_RULES: readonly HealthRuleSpec[] = [
  {
    name: "crossplane-package",
    match: [...kinds("pkg.crossplane.io", "Provider", "Configuration", "Function")],
    degraded: `${cond("Installed", "False")} && conditions.Installed.reason != 'UnpackPackage' || ${cond("Healthy", "False")} && conditions.Healthy.reason == 'UnhealthyPackageRevision'`,
    progressing: `${notTrue("Installed")} || ${notTrue("Healthy")}`,
    healthy: `${cond("Installed", "True")} && ${cond("Healthy", "True")}`,
    message:
      `'Installed' in conditions && conditions.Installed.status != 'True' ? ${say("Installed", "not installed")} : ` +
      `'Healthy' in conditions ? (${cond("Healthy", "True")} ? 'installed and healthy' : ${say("Healthy", "not healthy")}) : 'waiting for the package manager'`,
  },
  {
    name: "crossplane-definition",
    match: kinds("apiextensions.crossplane.io", "CompositeResourceDefinition"),
    degraded: "false",
    progressing: `${notTrue("Established")} || ('Offered' in conditions && conditions.Offered.status != 'True')`,
    healthy: cond("Established", "True"),
    message: `${notTrue("Established")} ? ('Established' in conditions ? ${say("Established", "not established")} : 'waiting for the definition to be established') : 'Offered' in conditions && conditions.Offered.status != 'True' ? ${say("Offered", "claims not offered yet")} : 'established'`,
  },
  {
    // Configuration kinds without readiness: compositions, runtime configs, provider credentials.
    name: "crossplane-configuration",
    match: [
      ...kinds("apiextensions.crossplane.io", "Composition", "CompositionRevision", "EnvironmentConfig"),
      ...kinds("pkg.crossplane.io", "DeploymentRuntimeConfig", "ControllerConfig"),
      { group: "*.crossplane.io", kind: "*ProviderConfig*" },
      { group: "*.upbound.io", kind: "*ProviderConfig*" },
    ],
    degraded: "false",
    progressing: "false",
    healthy: "true",
    message: "has(status.users) ? 'in use by ' + string(int(status.users)) + ' resources' : 'exists'",
  },
  {
    // Synced=False is the provider failing to reconcile (ReconcileError); Ready=False while the external resource is created.
    name: "crossplane-managed",
    match: [
      { group: "*.crossplane.io", kind: "*" },
      { group: "*.upbound.io", kind: "*" },
    ],
    degraded: `${cond("Synced", "False")} || ${cond("LastAsyncOperation", "False")} || ${cond("Ready", "False")} && conditions.Ready.reason == 'Unavailable'`,
    // Ready=True is enough for kinds without Synced (a Usage); a Synced=False was taken as Degraded above.
    progressing: notTrue("Ready"),
    healthy: cond("Ready", "True"),
    message:
      `${cond("Synced", "False")} ? ${say("Synced", "not synced")} : ${cond("LastAsyncOperation", "False")} ? ${say("LastAsyncOperation", "last operation failed")} : 'Ready' in conditions ? (${cond("Ready", "True")} ? ('Synced' in conditions ? 'synced and ready' : 'ready') : ${say("Ready", "not ready")}) : ` +
      `'waiting for the provider to reconcile it'`,
  },
];
