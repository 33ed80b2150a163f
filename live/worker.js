// A Durable Object that runs the reference engine's recorded operation programs on workerd.
//
// The harness records each call's operations on its zero-latency runtime (Python,
// simulator/runtime/live/record.py) and sends them here as a script: a list of steps. This object
// performs them against workerd's real storage, gates, alarms and fetch, in order, awaiting each
// as the engine awaits each yield. It computes nothing of its own.

const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function spin(ms) {
  // CPU work on the object's one thread (the engine's `Compute`).
  const until = Date.now() + ms;
  while (Date.now() < until) {}
}

export class Engine {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    this.constructed = false;
    this.alarms = [];
    this.stamps = []; // [label, Date.now()] of each "stamp" step (micro-benchmarks)
  }

  async run(steps) {
    for (const step of steps) await this.step(step);
  }

  async step([op, ...args]) {
    const storage = this.state.storage;
    switch (op) {
      case "get": return storage.get(args[0]);
      case "get_many": return storage.get(args[0]);
      case "list": return storage.list({ prefix: args[0] });
      case "put": return storage.put(args[0], args[1]);
      case "put_many": return storage.put(args[0]);
      case "delete": return storage.delete(args[0]);
      case "delete_all": return storage.deleteAll();
      case "set_alarm": return storage.setAlarm(Date.now() + args[0]);
      case "get_alarm": return storage.getAlarm();
      case "delete_alarm": return storage.deleteAlarm();
      case "compute": return spin(args[0]);
      case "wait": return wait(args[0]);
      case "http": {
        const response = await fetch(this.env.TRACKER_URL, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(args[0]),
        });
        await response.arrayBuffer();
        return response.status;
      }
      case "fork": {
        this.run(args[0]).catch(() => {}); // fire and forget, as the engine's Fork
        return;
      }
      case "block": return this.state.blockConcurrencyWhile(() => this.run(args[0]));
      case "span": return this.run(args[1]);
      case "all": return Promise.all(args[0].map((child) => this.run(child)));
      case "timeout": return Promise.race([this.run(args[1]), wait(args[0])]);
      case "stamp": this.stamps.push([args[0], Date.now()]); return;
      case "throw": throw new Error("a probe's deliberate failure");
      default: throw new Error(`unknown step ${op}`);
    }
  }

  async fetch(request) {
    const body = await request.json();
    if (!this.constructed) {
      this.constructed = true;
      this.alarms = body.alarms || [];
      await this.run(body.init || []); // the constructor's operations, before the first call
    }
    await this.run(body.script);
    return new Response(JSON.stringify({ stamps: this.stamps }));
  }

  async alarm() {
    const script = this.alarms.shift();
    if (script) await this.run(script);
  }
}

export default {
  async fetch(request, env) {
    const name = new URL(request.url).pathname.slice(1);
    return env.ENGINE.get(env.ENGINE.idFromName(name)).fetch(request);
  },
};
