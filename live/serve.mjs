// Starts workerd (through Miniflare) with the engine's Durable Object on a loopback port, prints
// its address on one line, and serves until its standard input closes or it is told to stop.
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const mf = new Miniflare({
  modules: true,
  host: "127.0.0.1",
  port: 0,
  script: readFileSync(new URL("./worker.js", import.meta.url), "utf8"),
  durableObjects: { ENGINE: "Engine" },
  bindings: { TRACKER_URL: process.env.TRACKER_URL || "http://127.0.0.1:9/" },
});
const url = await mf.ready;
process.stdout.write(`${url}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await mf.dispose();
  process.exit(0);
}
process.stdin.on("end", stop);
process.stdin.resume();
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
