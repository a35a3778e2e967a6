import type { HealthRuleSpec } from "../rule.js";
import { cond, conditionMessage, field, flag, kinds, readyRule, reason } from "./cel.js";

/** KEDA, Knative and Karpenter. */
export const SCALING_RULES: readonly HealthRuleSpec[] = [
  readyRule({
    name: "keda-scaler",
    match: [...kinds("keda.sh", "ScaledObject", "ScaledJob")],
    suspended: cond("Paused", "True"),
    failureReasons: ["ScaledObjectCheckFailed", "ScaledJobCheckFailed", "TriggerError"],
    degraded: cond("Fallback", "True"),
    degradedMessage: conditionMessage("Fallback", "scaler is failing, replicas fall back"),
  }),
  {
    // Knative's own convention: Ready=Unknown while reconciling, Ready=False only when it failed.
    name: "knative",
    match: [
      ...kinds("serving.knative.dev", "Service", "Configuration", "Route", "Revision"),
      ...kinds("eventing.knative.dev", "Broker", "Trigger", "EventType"),
      ...kinds("messaging.knative.dev", "Channel", "InMemoryChannel", "Subscription"),
      ...kinds("sources.knative.dev", "ApiServerSource", "PingSource", "ContainerSource", "SinkBinding"),
    ],
    degraded: cond("Ready", "False"),
    progressing: `!${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message: `'Ready' in conditions ? (${cond("Ready", "True")} ? ${conditionMessage("Ready", "ready")} : ${conditionMessage("Ready", "not ready")}) : 'waiting for the Ready condition'`,
  },
  readyRule({
    name: "karpenter-nodepool",
    match: [...kinds("karpenter.sh", "NodePool"), ...kinds("karpenter.k8s.aws", "EC2NodeClass"), ...kinds("karpenter.azure.com", "AKSNodeClass")],
    degraded: cond("ValidationSucceeded", "False"),
    degradedMessage: conditionMessage("ValidationSucceeded", "validation failed"),
  }),
  {
    name: "karpenter-nodeclaim",
    match: kinds("karpenter.sh", "NodeClaim"),
    // Being consolidated, expired or drifted away: Karpenter is taking the node down on purpose.
    suspended: cond("Disrupting", "True"),
    degraded: `${reason("Launched", ["LaunchFailed", "InsufficientCapacityError"], "False")}`,
    progressing: `!${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message:
      `health == 'Suspended' ? ${conditionMessage("Disrupting", "node is being disrupted")} : ${cond("Ready", "True")} ? 'node ' + ${field("status.nodeName")} + ' is ready' : ` +
      `${cond("Launched", "False")} ? ${conditionMessage("Launched", "not launched")} : ` +
      `${cond("Registered", "False")} ? ${conditionMessage("Registered", "not registered")} : ` +
      `${cond("Initialized", "False")} ? ${conditionMessage("Initialized", "not initialized")} : ` +
      `!${cond("Launched", "True")} ? 'waiting for a node to launch' : !${cond("Registered", "True")} ? 'waiting for the node to register' : 'waiting for the node to initialize'`,
  },
];

/** Strimzi's Kafka kinds: Ready=True when reconciled, NotReady=True while creating or after an error. */
export const STRIMZI_RULES: readonly HealthRuleSpec[] = [
  {
    name: "strimzi",
    match: [
      ...kinds("kafka.strimzi.io", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "KafkaConnect", "KafkaConnector", "KafkaMirrorMaker2", "KafkaBridge"),
    ],
    suspended: cond("ReconciliationPaused", "True"),
    degraded: `(${cond("NotReady", "True")} && !(conditions.NotReady.reason in ['Creating', 'Pending'])) || ${cond("Ready", "False")} && conditions.Ready.reason != ''`,
    progressing: `!${cond("Ready", "True")}`,
    healthy: cond("Ready", "True"),
    message:
      `health == 'Suspended' ? 'reconciliation is paused' : ${cond("NotReady", "True")} ? ${conditionMessage("NotReady", "not ready")} : ` +
      `'Ready' in conditions ? (${cond("Ready", "True")} ? 'ready' : ${conditionMessage("Ready", "not ready")}) : 'waiting for the operator'`,
  },
  {
    name: "strimzi-rebalance",
    match: kinds("kafka.strimzi.io", "KafkaRebalance"),
    suspended: `${cond("Stopped", "True")} || ${cond("ProposalReady", "True")}`,
    degraded: cond("NotReady", "True"),
    progressing: `${cond("New", "True")} || ${cond("PendingProposal", "True")} || ${cond("Rebalancing", "True")} || size(conditions) == 0`,
    healthy: cond("Ready", "True"),
    message:
      `${cond("ProposalReady", "True")} ? 'proposal is ready: approve it to rebalance' : ${cond("Stopped", "True")} ? 'rebalance stopped' : ` +
      `${cond("NotReady", "True")} ? ${conditionMessage("NotReady", "failed")} : ${cond("Rebalancing", "True")} ? 'rebalancing' : ${cond("Ready", "True")} ? 'rebalance complete' : 'waiting for a proposal'`,
  },
];

/** The Prometheus Operator: the servers it runs, and the monitors it binds to them. */
export const PROMETHEUS_RULES: readonly HealthRuleSpec[] = [
  {
    name: "prometheus-operator-server",
    match: [...kinds("monitoring.coreos.com", "Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler")],
    suspended: flag("spec.paused"),
    degraded: cond("Reconciled", "False"),
    progressing: `!${cond("Available", "True")} || ${cond("Available", "Degraded")}`,
    healthy: `${cond("Available", "True")} && !${cond("Reconciled", "False")}`,
    message:
      `health == 'Suspended' ? 'reconciliation is paused' : ${cond("Reconciled", "False")} ? ${conditionMessage("Reconciled", "not reconciled")} : ` +
      `'Available' in conditions ? (${cond("Available", "True")} ? 'available' : ${conditionMessage("Available", "not fully available")}) : 'waiting for the operator'`,
  },
  {
    // Monitors report per Prometheus in status.bindings (v0.80+); without it they are plain configuration.
    name: "prometheus-operator-monitor",
    match: [...kinds("monitoring.coreos.com", "ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig")],
    degraded: "has(status.bindings) && status.bindings.exists(b, has(b.conditions) && b.conditions.exists(c, c.type == 'Accepted' && c.status == 'False'))",
    progressing: "false",
    healthy: "true",
    message:
      "health == 'Degraded' ? 'rejected by ' + status.bindings.filter(b, has(b.conditions) && b.conditions.exists(c, c.type == 'Accepted' && c.status == 'False'))[0].name + ': ' + " +
      "status.bindings.filter(b, has(b.conditions) && b.conditions.exists(c, c.type == 'Accepted' && c.status == 'False'))[0].conditions.filter(c, c.type == 'Accepted')[0].message : " +
      "has(status.bindings) ? 'accepted by ' + string(size(status.bindings)) + ' server(s)' : 'exists'",
  },
];
