/**
 * The fake API server in a process of its own, for benchmarks that measure
 * the agent alone: prints `{"url","kubeconfig"}` on one line once it serves,
 * and stops when its standard input closes (the parent ended) or on SIGTERM.
 */
import { startFakeKube } from "../test/support/kube-fake/index.js";

const fake = await startFakeKube({ simulateControllers: true });
process.stdout.write(`${JSON.stringify({ url: fake.url, kubeconfig: fake.kubeconfigPath })}\n`);
const stop = (): void => {
  void fake.close().then(() => process.exit(0));
};
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
