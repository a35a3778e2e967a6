// Authentication and RBAC as the real API server does them, for the fake's
// RBAC mode: bearer tokens mapped to users and groups, Roles, ClusterRoles
// (with aggregation) and their bindings evaluated per request (verbs, API
// groups, resources and subresources, resource names, non-resource URLs),
// the real 403 message, and the escalation check on writes of roles and
// bindings (a user may only grant what it holds, unless it has `escalate`
// on the role or `bind` on the bound role).
import { ApiError } from "./status.js";
import type { ObjectStore } from "./store.js";
import { resourceKey } from "./store.js";
import type { JsonObject } from "./types.js";
import { isObject, objectField, readMetadata, stringField } from "./types.js";

export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** Who a request is from. */
export interface UserInfo {
  readonly name: string;
  readonly groups: readonly string[];
}

/** What a request asks to do, as the authorizer sees it. */
export interface Attributes {
  readonly user: UserInfo;
  readonly verb: string;
  /** Non-resource requests (discovery, /version, /healthz) have only a path. */
  readonly resourceRequest: boolean;
  readonly path: string;
  readonly apiGroup: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

/** One rule of a Role or ClusterRole. */
export interface PolicyRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

/** The user that system:masters tokens authenticate as. */
export const ADMIN: UserInfo = { name: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] };
export const ANONYMOUS: UserInfo = { name: "system:anonymous", groups: ["system:unauthenticated"] };

/** The user a ServiceAccount's token authenticates as. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"] };
}

/** The roles and bindings every cluster starts with (the part of the real bootstrap policy the fake needs). */
export function bootstrapPolicy(): { readonly kind: string; readonly plural: string; readonly object: JsonObject }[] {
  const crb = (name: string, role: string, groups: string[]) => ({
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    object: {
      apiVersion: `${RBAC_GROUP}/v1`,
      kind: "ClusterRoleBinding",
      metadata: { name, labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } },
      roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
      subjects: groups.map((g) => ({ apiGroup: RBAC_GROUP, kind: "Group", name: g })),
    },
  });
  const cr = (name: string, rules: PolicyRule[]) => ({
    kind: "ClusterRole",
    plural: "clusterroles",
    object: { apiVersion: `${RBAC_GROUP}/v1`, kind: "ClusterRole", metadata: { name, labels: { "kubernetes.io/bootstrapping": "rbac-defaults" } }, rules: rules.map((r) => ({ ...r })) } as unknown as JsonObject,
  });
  return [
    cr("cluster-admin", [
      { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
      { nonResourceURLs: ["*"], verbs: ["*"] },
    ]),
    cr("system:discovery", [{ nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
    cr("system:public-info-viewer", [{ nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"], verbs: ["get"] }]),
    crb("cluster-admin", "cluster-admin", ["system:masters"]),
    crb("system:discovery", "system:discovery", ["system:authenticated"]),
    crb("system:public-info-viewer", "system:public-info-viewer", ["system:authenticated", "system:unauthenticated"]),
  ];
}

const has = (list: readonly string[] | undefined, value: string): boolean => (list ?? []).includes(value);

function urlMatches(pattern: string, path: string): boolean {
  return pattern === "*" || pattern === path || (pattern.endsWith("*") && path.startsWith(pattern.slice(0, -1)));
}

/** RuleAllows of the real RBAC authorizer. */
export function ruleAllows(rule: PolicyRule, a: Omit<Attributes, "user">): boolean {
  const verb = has(rule.verbs, "*") || has(rule.verbs, a.verb);
  if (!a.resourceRequest) return verb && (rule.nonResourceURLs ?? []).some((u) => urlMatches(u, a.path));
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const group = has(rule.apiGroups, "*") || has(rule.apiGroups, a.apiGroup);
  const resource = has(rule.resources, "*") || has(rule.resources, combined) || (a.subresource !== "" && has(rule.resources, `*/${a.subresource}`));
  const name = (rule.resourceNames ?? []).length === 0 || has(rule.resourceNames, a.name);
  return verb && group && resource && name;
}

function rulesOf(obj: JsonObject | undefined): PolicyRule[] {
  const rules = obj?.["rules"];
  if (!Array.isArray(rules)) return [];
  return rules.filter(isObject).map((r) => {
    const list = (key: string): string[] | undefined => (Array.isArray(r[key]) ? (r[key] as unknown[]).map(String) : undefined);
    const rule: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { verbs: list("verbs") ?? [] };
    for (const key of ["apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const) {
      const value = list(key);
      if (value) rule[key] = value;
    }
    return rule;
  });
}

function matchesLabels(obj: JsonObject, selector: JsonObject): boolean {
  const labels = objectField(readMetadata(obj), "labels") ?? {};
  const wanted = objectField(selector, "matchLabels") ?? {};
  return Object.entries(wanted).every(([k, v]) => labels[k] === v);
}

/** Evaluates requests and role writes against the RBAC objects in a store. */
export class RbacAuthorizer {
  constructor(private readonly store: ObjectStore) {}

  private clusterRole(name: string, seen = new Set<string>()): PolicyRule[] {
    const role = this.store.get(resourceKey(RBAC_GROUP, "clusterroles"), undefined, name);
    if (!role || seen.has(name)) return [];
    seen.add(name);
    const aggregation = objectField(role, "aggregationRule");
    const selectors = aggregation?.["clusterRoleSelectors"];
    if (!Array.isArray(selectors)) return rulesOf(role);
    // The aggregation controller's result: the rules of every ClusterRole a selector matches.
    return this.store
      .list(resourceKey(RBAC_GROUP, "clusterroles"), undefined)
      .filter((other) => stringField(readMetadata(other), "name") !== name && selectors.filter(isObject).some((s) => matchesLabels(other, s)))
      .flatMap((other) => this.clusterRole(stringField(readMetadata(other), "name") ?? "", seen));
  }

  /** The rules a binding's roleRef grants (a Role in the binding's namespace, or a ClusterRole). */
  roleRules(roleRef: JsonObject | undefined, namespace: string | undefined): PolicyRule[] {
    const kind = stringField(roleRef, "kind");
    const name = stringField(roleRef, "name") ?? "";
    if (kind === "ClusterRole") return this.clusterRole(name);
    if (kind === "Role" && namespace) return rulesOf(this.store.get(resourceKey(RBAC_GROUP, "roles"), namespace, name));
    return [];
  }

  private bound(binding: JsonObject, user: UserInfo, bindingNamespace: string | undefined): boolean {
    const subjects = binding["subjects"];
    if (!Array.isArray(subjects)) return false;
    return subjects.filter(isObject).some((s) => {
      const name = stringField(s, "name");
      switch (stringField(s, "kind")) {
        case "User":
          return name === user.name;
        case "Group":
          return name !== undefined && user.groups.includes(name);
        case "ServiceAccount":
          return `system:serviceaccount:${stringField(s, "namespace") ?? bindingNamespace ?? ""}:${name ?? ""}` === user.name;
        default:
          return false;
      }
    });
  }

  /** Every rule that applies to the user in a namespace ("" for the cluster scope): its ClusterRoleBindings, and the RoleBindings there. */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const binding of this.store.list(resourceKey(RBAC_GROUP, "clusterrolebindings"), undefined)) {
      if (this.bound(binding, user, undefined)) rules.push(...this.roleRules(objectField(binding, "roleRef"), undefined));
    }
    if (namespace !== "") {
      for (const binding of this.store.list(resourceKey(RBAC_GROUP, "rolebindings"), namespace)) {
        if (this.bound(binding, user, namespace)) rules.push(...this.roleRules(objectField(binding, "roleRef"), namespace));
      }
    }
    return rules;
  }

  allows(a: Attributes): boolean {
    return this.rulesFor(a.user, a.resourceRequest ? a.namespace : "").some((rule) => ruleAllows(rule, a));
  }

  /** Throws the real 403 unless the request is allowed. */
  authorize(a: Attributes): void {
    if (!this.allows(a)) throw forbidden(a);
  }

  /**
   * The escalation check of the RBAC storage on a Role, ClusterRole or a
   * binding about to be stored: the user must hold every permission it
   * grants, unless it may `escalate` that role (or `bind` the bound role).
   */
  confirmNoEscalation(user: UserInfo, kind: string, obj: JsonObject): void {
    const meta = readMetadata(obj);
    const name = stringField(meta, "name") ?? "";
    const namespace = stringField(meta, "namespace");
    const scope = kind === "Role" || kind === "RoleBinding" ? (namespace ?? "") : "";
    const rbac = (verb: string, resource: string, resourceName: string): Attributes => ({ user, verb, resourceRequest: true, path: "", apiGroup: RBAC_GROUP, resource, subresource: "", namespace: scope, name: resourceName });
    let granted: PolicyRule[];
    let plural: string;
    if (kind === "Role" || kind === "ClusterRole") {
      plural = kind === "Role" ? "roles" : "clusterroles";
      if (this.allows(rbac("escalate", plural, name))) return;
      granted = kind === "ClusterRole" && objectField(obj, "aggregationRule") ? [] : rulesOf(obj);
    } else if (kind === "RoleBinding" || kind === "ClusterRoleBinding") {
      plural = kind === "RoleBinding" ? "rolebindings" : "clusterrolebindings";
      const roleRef = objectField(obj, "roleRef");
      const refPlural = stringField(roleRef, "kind") === "Role" ? "roles" : "clusterroles";
      if (this.allows(rbac("bind", refPlural, stringField(roleRef, "name") ?? ""))) return;
      granted = this.roleRules(roleRef, kind === "RoleBinding" ? namespace : undefined);
    } else {
      return;
    }
    const missing = uncovered(this.rulesFor(user, scope), granted);
    if (missing.length === 0) return;
    const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(" ")}]`;
    const message = `user ${JSON.stringify(user.name)} (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${compact(missing).join("\n")}`;
    throw new ApiError(403, "Forbidden", `${plural}.${RBAC_GROUP} ${JSON.stringify(name)} is forbidden: ${message}`, { name, group: RBAC_GROUP, kind: plural });
  }
}

/** The 403 of the real authorizer: `configmaps "x" is forbidden: User "u" cannot get resource "configmaps" in API group "" in the namespace "ns"`. */
export function forbidden(a: Attributes): ApiError {
  const user = JSON.stringify(a.user.name);
  if (!a.resourceRequest) return new ApiError(403, "Forbidden", `forbidden: User ${user} cannot ${a.verb} path ${JSON.stringify(a.path)}`, {});
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : "at the cluster scope";
  const reason = `User ${user} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${scope}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const message = a.name ? `${qualified} ${JSON.stringify(a.name)} is forbidden: ${reason}` : `${qualified} is forbidden: ${reason}`;
  const details: JsonObject = { name: a.name };
  if (a.apiGroup) details["group"] = a.apiGroup;
  details["kind"] = a.resource;
  return new ApiError(403, "Forbidden", message, details);
}

/** One atomic permission: a verb on one group/resource/name, or on one URL. */
interface Atom {
  readonly verb: string;
  readonly group?: string;
  readonly resource?: string;
  readonly name?: string;
  readonly url?: string;
}

function atomsOf(rule: PolicyRule): Atom[] {
  const atoms: Atom[] = [];
  for (const verb of rule.verbs) {
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        if ((rule.resourceNames ?? []).length === 0) atoms.push({ verb, group, resource });
        else for (const name of rule.resourceNames ?? []) atoms.push({ verb, group, resource, name });
      }
    }
    for (const url of rule.nonResourceURLs ?? []) atoms.push({ verb, url });
  }
  return atoms;
}

/** ruleCovers of the real escalation check, for one atomic permission. */
function covers(owner: PolicyRule, atom: Atom): boolean {
  if (!has(owner.verbs, "*") && !has(owner.verbs, atom.verb)) return false;
  if (atom.url !== undefined) return (owner.nonResourceURLs ?? []).some((u) => u === "*" || u === atom.url || (u.endsWith("*") && atom.url?.startsWith(u.slice(0, -1))));
  if (!has(owner.apiGroups, "*") && !has(owner.apiGroups, atom.group ?? "")) return false;
  const resource = atom.resource ?? "";
  const sub = resource.includes("/") ? `*/${resource.slice(resource.indexOf("/") + 1)}` : undefined;
  if (!has(owner.resources, "*") && !has(owner.resources, resource) && !(sub && has(owner.resources, sub))) return false;
  const names = owner.resourceNames ?? [];
  return names.length === 0 || (atom.name !== undefined && names.includes(atom.name));
}

/** The atomic permissions of `granted` that no rule of `owner` covers. */
export function uncovered(owner: readonly PolicyRule[], granted: readonly PolicyRule[]): Atom[] {
  return granted.flatMap(atomsOf).filter((atom) => !owner.some((rule) => covers(rule, atom)));
}

/** The missing permissions as the real message lists them (CompactString, one line each, verbs merged, sorted). */
function compact(atoms: readonly Atom[]): string[] {
  const merged = new Map<string, { atom: Atom; verbs: string[] }>();
  for (const atom of atoms) {
    const key = JSON.stringify([atom.group, atom.resource, atom.name, atom.url]);
    const entry = merged.get(key) ?? { atom, verbs: [] };
    if (!entry.verbs.includes(atom.verb)) entry.verbs.push(atom.verb);
    merged.set(key, entry);
  }
  const q = (values: readonly string[]): string => `[${values.map((v) => JSON.stringify(v)).join(" ")}]`;
  return [...merged.values()]
    .map(({ atom, verbs }) => {
      const parts: string[] = [];
      if (atom.group !== undefined) parts.push(`APIGroups:${q([atom.group])}`);
      if (atom.resource !== undefined) parts.push(`Resources:${q([atom.resource])}`);
      if (atom.url !== undefined) parts.push(`NonResourceURLs:${q([atom.url])}`);
      if (atom.name !== undefined) parts.push(`ResourceNames:${q([atom.name])}`);
      parts.push(`Verbs:${q(verbs)}`);
      return `{${parts.join(", ")}}`;
    })
    .sort();
}
