/**
 * The example repository `ferry quickstart` creates: one application, `web`,
 * made of a small HTTP service and the files it reads.
 */
export function exampleFiles(port: number): Readonly<Record<string, string>> {
  return {
    "README.md": `# Ferry quickstart

The desired state of this machine. Ferry's agent pulls this repository and
keeps what it declares running: edit, commit, and watch it happen.

- \`ferry/applications.yaml\` lists the applications and where each one lives.
- \`apps/web/\` is the \`web\` application: a service and the files it reads.
`,
    "ferry/applications.yaml": `# Applications the agent manages. Each one names a directory of this repository.
apiVersion: ferry.dev/v1
kind: Application
metadata:
  name: web
spec:
  source:
    path: apps/web
  syncPolicy:
    automated: true   # apply every new commit
    prune: true       # delete what leaves Git
    selfHeal: true    # put back what someone changed by hand
    interval: 30s     # re-read live state this often (changes are also noticed at once)
`,
    "apps/web/service.yaml": `apiVersion: host.ferry.dev/v1
kind: Service
metadata:
  name: web
  labels:   # the version label: the history records which version ran when
    app.kubernetes.io/version: "1"
spec:
  command: node
  args: [server.mjs]
  workingDir: web
  env:
    PORT: "${port}"
    RELEASE: "1"
  healthCheck:
    http:
      url: http://127.0.0.1:${port}/healthz
    intervalSeconds: 1
  restart:
    policy: always
    backoffSeconds: 1
  stop:
    gracePeriodSeconds: 5
`,
    "apps/web/files.yaml": `apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: web-config
spec:
  path: web/config.json
  content: |
    { "greeting": "Hello from Ferry" }
---
apiVersion: host.ferry.dev/v1
kind: File
metadata:
  name: web-server
spec:
  path: web/server.mjs
  contentFrom: server.mjs
`,
    "apps/web/server.mjs": `// A small web service run by Ferry. It reads config.json on every request, so
// a greeting committed to Git is served as soon as Ferry has written the file.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
createServer((req, res) => {
  if (req.url === "/healthz") return void res.end("ok\\n");
  const config = JSON.parse(readFileSync(new URL("./config.json", import.meta.url), "utf8"));
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.end(\`\${config.greeting} (release \${process.env.RELEASE}, pid \${process.pid})\\n\`);
}).listen(port, "127.0.0.1", () => console.log(\`web listening on http://127.0.0.1:\${port}/\`));
process.on("SIGTERM", () => process.exit(0));
`,
  };
}
