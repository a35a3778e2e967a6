import type { Health } from "../../../core/health.js";
import type { JsonObject } from "../../../core/json.js";
import { health, objectsAt, stringAt } from "./fields.js";

/** `203.0.113.7` or `lb.example.com`: the addresses a load balancer status lists. */
function addresses(object: JsonObject): string[] {
  return objectsAt(object, "status.loadBalancer.ingress")
    .map((i) => stringAt(i, "hostname") ?? stringAt(i, "ip"))
    .filter((a): a is string => a !== undefined && a !== "");
}

/** A Service: Healthy, except a LoadBalancer, which is Progressing until it has an address. */
export function serviceHealth(service: JsonObject): Health {
  const type = stringAt(service, "spec.type") ?? "ClusterIP";
  if (type !== "LoadBalancer") return health("Healthy", `${type} service`);
  const found = objectsAt(service, "status.loadBalancer.ingress");
  if (found.length === 0) return health("Progressing", "waiting for the load balancer to get an address");
  const named = addresses(service);
  return health("Healthy", named.length > 0 ? `load balancer at ${named.join(", ")}` : "load balancer is ready");
}

/** An Ingress: Progressing until the controller publishes a load balancer address. */
export function ingressHealth(ingress: JsonObject): Health {
  const found = objectsAt(ingress, "status.loadBalancer.ingress");
  if (found.length === 0) return health("Progressing", "waiting for the ingress controller to publish an address");
  const named = addresses(ingress);
  return health("Healthy", named.length > 0 ? `served at ${named.join(", ")}` : "ingress has an address");
}
