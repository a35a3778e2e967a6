// A small web service: answers every request with the greeting of greeting.txt (a File
// Ferry writes beside it) and the environment it runs in.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const environment = process.env.ENVIRONMENT ?? "unknown";

createServer((_req, res) => {
  let greeting = "hello";
  try {
    greeting = readFileSync("greeting.txt", "utf8").trim();
  } catch {
    // no greeting.txt yet: the default
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`${greeting} from ${environment}\n`);
}).listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}/`));
