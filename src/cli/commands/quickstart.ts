import { eventPrinter, formatStatusTable } from "../format.js";
import { EXIT } from "../exit-codes.js";
import { createQuickstart, quickstartAgent, quickstartGuide, quickstartLayout, resetQuickstart } from "../../quickstart/quickstart.js";
import { waitForSignal } from "./agent.js";

/**
 * `ferry quickstart [dir]`: creates an example Git repository with a small
 * web service, runs the agent on it in the foreground and says what to try.
 */
export async function runQuickstartCommand(dir: string, options: { port: number; reset: boolean }): Promise<number> {
  const layout = quickstartLayout(dir);
  if (options.reset) {
    await resetQuickstart(layout);
    console.log(`stopped the quickstart's services and removed ${layout.dir}`);
    return EXIT.ok;
  }
  const { created, port } = await createQuickstart(layout, options.port);
  console.log(created ? `created the example repository ${layout.repo}` : `using the existing quickstart in ${layout.dir}`);
  const agent = quickstartAgent(layout);
  agent.engine.subscribe(eventPrinter((line) => console.log(line)));
  await agent.start();
  await agent.engine.whenIdle();
  console.log("\n" + formatStatusTable(agent.statuses()));
  console.log(quickstartGuide(layout, port, agent.dashboardUrl));
  await waitForSignal();
  console.log("stopping the agent; the service keeps running and is adopted next time");
  await agent.stop();
  return EXIT.ok;
}
