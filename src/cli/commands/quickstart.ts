import { eventPrinter, formatStatusTable } from "../format.js";
import { ProgressLine, startupProgress } from "../progress.js";
import { dirname, isAbsolute, relative } from "node:path";
import { CliError, EXIT } from "../exit-codes.js";
import { createQuickstart, DEFAULT_QUICKSTART_DIR, findQuickstart, quickstartAgent, quickstartGuide, quickstartLayout, resetQuickstart, servicePid } from "../../quickstart/quickstart.js";
import { waitForSignal } from "./agent.js";

/**
 * `ferry quickstart [dir]`: creates an example Git repository with a small
 * web service, runs the agent on it in the foreground and says what to try.
 */
export async function runQuickstartCommand(dir: string | undefined, options: { port: number; reset: boolean }): Promise<number> {
  if (options.reset) {
    const cwd = process.cwd();
    const found = findQuickstart(dir, cwd);
    if (!found) {
      const where = quickstartLayout(dir ?? DEFAULT_QUICKSTART_DIR).dir;
      throw new CliError(
        `${where} is not a quickstart (no repo/ with the example's Git repository and live/ beside it)${dir === undefined ? ", and neither is a folder this one is in" : ""}; nothing was removed. ` +
          `Run ferry quickstart --reset where the quickstart folder is, or name it: ferry quickstart --reset <dir>`,
      );
    }
    await resetQuickstart(found);
    console.log(`stopped the quickstart's services and removed ${found.dir}`);
    const inside = relative(found.dir, cwd);
    if (inside === "" || (!inside.startsWith("..") && !isAbsolute(inside))) console.log(`this shell was inside it: cd ${dirname(found.dir)}`);
    return EXIT.ok;
  }
  const layout = quickstartLayout(dir ?? DEFAULT_QUICKSTART_DIR);
  const { created, port } = await createQuickstart(layout, options.port);
  console.log(created ? `created the example repository ${layout.repo}` : `using the existing quickstart in ${layout.dir}`);
  const agent = quickstartAgent(layout);
  const progress = new ProgressLine();
  const startup = startupProgress(progress, layout.repo);
  const printer = eventPrinter((line) => progress.print(() => console.log(line)));
  agent.engine.subscribe((event) => {
    printer(event);
    startup.onEvent(event);
  });
  await agent.start();
  await agent.engine.whenIdle();
  progress.done();
  console.log("\n" + formatStatusTable(agent.statuses()));
  console.log(quickstartGuide(layout, port, agent.dashboardUrl, servicePid(agent.statuses())));
  await waitForSignal();
  console.log("stopping the agent; the service keeps running and is adopted next time");
  await agent.stop();
  return EXIT.ok;
}
