/** The four objects of one benchmark application (ServiceAccount, ConfigMap, Service, Deployment), labelled with its version. */
export function appObjects(name: string, version: number): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  labels: {app: ${name}, version: "${version}"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  labels: {app: ${name}, version: "${version}"}
data:
  greeting: hello ${version}
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels: {app: ${name}, version: "${version}"}
spec:
  selector: {app: ${name}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}, version: "${version}"}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      serviceAccountName: ${name}
      containers: [{name: web, image: "example.com/web:${version}"}]
`;
}
