import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, field, kinds, reason, readyRule } from "./cel.js";

const state = field("status.state");

/** cert-manager: certificates, their requests, issuers, and the ACME orders and challenges behind them. */
export const CERT_MANAGER_RULES: readonly HealthRuleSpec[] = [
  {
    // A Certificate being issued is Ready=False with Issuing=True: that is progress, not failure.
    name: "cert-manager-certificate",
    match: kinds("cert-manager.io", "Certificate"),
    degraded: `${reason("Issuing", ["Failed"], "False")} || ${reason("Ready", ["Expired", "InvalidKeyPair"], "False")}`,
    progressing: `${cond("Issuing", "True")} || !${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message:
      `${reason("Issuing", ["Failed"], "False")} ? ${conditionMessage("Issuing", "issuing failed")} : ` +
      `${cond("Issuing", "True")} ? ${conditionMessage("Issuing", "issuing")} : ` +
      `'Ready' in conditions ? (${cond("Ready", "True")} ? ${conditionMessage("Ready", "ready")} : ${conditionMessage("Ready", "not ready")}) : 'waiting for the certificate to be issued'`,
  },
  {
    name: "cert-manager-certificaterequest",
    match: kinds("cert-manager.io", "CertificateRequest"),
    degraded: `${cond("InvalidRequest", "True")} || ${cond("Denied", "True")} || ${reason("Ready", ["Failed", "Denied"], "False")}`,
    progressing: `!${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message:
      `${cond("InvalidRequest", "True")} ? ${conditionMessage("InvalidRequest", "invalid request")} : ${cond("Denied", "True")} ? ${conditionMessage("Denied", "denied")} : ` +
      `'Ready' in conditions ? (${cond("Ready", "True")} ? ${conditionMessage("Ready", "ready")} : ${conditionMessage("Ready", "not ready")}) : 'waiting for an issuer to sign it'`,
  },
  readyRule({
    name: "cert-manager-issuer",
    match: [...kinds("cert-manager.io", "Issuer", "ClusterIssuer")],
    // An issuer that cannot initialise or register its account stays so until its spec or secret changes.
    degraded: "('Ready' in conditions && conditions.Ready.status == 'False' && conditions.Ready.reason.startsWith('Err'))",
  }),
  {
    name: "cert-manager-acme",
    match: kinds("acme.cert-manager.io", "Order", "Challenge"),
    degraded: `${state} in ['invalid', 'errored', 'expired']`,
    progressing: `${state} in ['', 'pending', 'ready', 'processing']`,
    healthy: `${state} == 'valid'`,
    message: `(${state} == '' ? 'waiting for the ACME server' : 'ACME state ' + ${state}) + (${field("status.reason")} != '' ? ': ' + ${field("status.reason")} : '')`,
  },
];
