import type { HealthRuleSpec } from "../rule.js";
import { flag, kinds, readyRule } from "./cel.js";

const suspended = flag("spec.suspend");

/** Flux's objects follow kstatus (Ready, Reconciling, Stalled) and stop while `spec.suspend` is true. */
export const FLUX_RULES: readonly HealthRuleSpec[] = [
  readyRule({
    name: "flux-source",
    match: [...kinds("source.toolkit.fluxcd.io", "GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket")],
    suspended,
    failureReasons: ["AuthenticationFailed", "GitOperationFailed", "URLInvalid", "StorageOperationFailed", "InvalidSTSConfiguration", "ChartPullError", "ValuesFilesError"],
  }),
  readyRule({
    name: "flux-kustomization",
    match: kinds("kustomize.toolkit.fluxcd.io", "Kustomization"),
    suspended,
    failureReasons: ["BuildFailed", "HealthCheckFailed", "ReconciliationFailed", "PruneFailed"],
  }),
  readyRule({
    name: "flux-helmrelease",
    match: kinds("helm.toolkit.fluxcd.io", "HelmRelease"),
    suspended,
    failureReasons: ["InstallFailed", "UpgradeFailed", "RollbackFailed", "UninstallFailed", "TestFailed", "InitFailed", "RetriesExceeded"],
  }),
  readyRule({
    name: "flux-image-automation",
    match: [...kinds("image.toolkit.fluxcd.io", "ImageRepository", "ImagePolicy", "ImageUpdateAutomation")],
    suspended,
    failureReasons: ["AuthenticationFailed", "ReadOperationFailed", "InvalidPolicy", "GitOperationFailed", "InvalidSourceConfiguration", "UpdateFailed"],
  }),
  readyRule({
    name: "flux-notification",
    match: kinds("notification.toolkit.fluxcd.io", "Receiver"),
    suspended,
    failureReasons: ["ValidationFailed", "TokenNotFound"],
  }),
];
