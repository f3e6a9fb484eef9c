import { setClockOffset } from "../testbed/faketime.ts";
import { addNetem, clearNetem } from "../testbed/netem.ts";
import { waitUntil } from "../testbed/wait-until.ts";
import { API_LATENCY_MS, NODES, VIP, WITNESS, type ChaosBed } from "./chaos-bed.ts";
import type { ScenarioRules } from "./invariant-checker.ts";
import type { ChaosRandom } from "./random-source.ts";
import type { Sample } from "./sample.ts";

/** What a running scenario can do besides acting on the bed. */
export interface ScenarioContext {
  chaos: ChaosBed;
  log(line: string): void;
  /** Records a violation found by the scenario itself (not by the sampler). */
  violation(what: string): void;
  /** A check run on the first converged sample after the scenario (e.g. a committed change survived). */
  afterConvergence(check: (sample: Sample) => string | null): void;
  /** Faults lasting minutes in long runs, seconds in short ones. */
  long: boolean;
}

/** One run of a scenario: its table row, its rules, and what it does (restoring the bed at the end). */
export interface ScenarioPlan {
  row: string;
  rules: ScenarioRules;
  run(ctx: ScenarioContext): Promise<void>;
}

export interface Scenario {
  name: string;
  /** Why this host cannot run it, or null. */
  unavailable?(chaos: ChaosBed): string | null;
  /** Draws every random choice up front, so the seed alone fixes the sequence. */
  plan(rng: ChaosRandom): ScenarioPlan;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const STEP_MS = 20_000;

const adminMove: ScenarioRules = { mayMove: true };
const noMove: ScenarioRules = { mayMove: false };
/** A failure that a cut-off or killed node cannot see: one move, overlap counted once the fault ends. */
const lossOfNode: ScenarioRules = { mayMove: true, maxMoves: 1, overlapWhileFaulted: true };
/** The node that does not hold the VIP fails and comes back: nothing explains a move of the VIP. */
const peerLoss: ScenarioRules = { mayMove: false, overlapWhileFaulted: true };

function holder(chaos: ChaosBed): string {
  return chaos.cloud.holderOf(VIP) ?? NODES[0];
}

function peerOf(node: string): string {
  return NODES.find((n) => n !== node) ?? NODES[0];
}

async function stopServices(chaos: ChaosBed, node: string): Promise<void> {
  await chaos.cluster.must(node, ["cluster", "stop"]);
  await waitUntil(
    `${node} cluster services stopped`,
    STEP_MS,
    async () => (await chaos.view(node))?.running === false,
    100,
  );
}

async function startServices(chaos: ChaosBed, node: string): Promise<void> {
  await chaos.cluster.must(node, ["cluster", "start"]);
  await waitUntil(
    `${node} cluster services running`,
    STEP_MS,
    async () => (await chaos.view(node))?.running === true,
    100,
  );
}

async function noVipOn(
  chaos: ChaosBed,
  ctx: ScenarioContext,
  nodes: readonly string[],
  why: string,
): Promise<void> {
  try {
    await waitUntil(
      `${VIP} gone from ${nodes.join(",")}`,
      STEP_MS,
      async () => {
        for (const n of nodes) if ((await chaos.localVips(n)).includes(VIP)) return false;
        return true;
      },
      100,
    );
  } catch {
    ctx.violation(`${VIP} still configured on ${nodes.join(" or ")} ${STEP_MS / 1000} s after ${why}`);
  }
}

const startOneByOne: Scenario = {
  name: "StartOnebyOne",
  plan: (rng) => {
    const order = rng.shuffle(NODES);
    return {
      row: "StartOnebyOne",
      rules: adminMove,
      async run({ chaos, log }) {
        await Promise.all(NODES.map((n) => stopServices(chaos, n)));
        for (const n of order) {
          log(`start ${n}`);
          await startServices(chaos, n);
        }
      },
    };
  },
};

const simulStart: Scenario = {
  name: "SimulStart",
  plan: () => ({
    row: "SimulStart",
    rules: adminMove,
    async run({ chaos }) {
      await Promise.all(NODES.map((n) => stopServices(chaos, n)));
      await sleep(500);
      await Promise.all(NODES.map((n) => startServices(chaos, n)));
    },
  }),
};

const simulStop: Scenario = {
  name: "SimulStop",
  plan: (rng) => {
    const downMs = rng.int(1000, 4000);
    return {
      row: "SimulStop",
      rules: adminMove,
      async run(ctx) {
        await Promise.all(NODES.map((n) => stopServices(ctx.chaos, n)));
        await noVipOn(ctx.chaos, ctx, NODES, "every node stopped");
        await sleep(downMs);
        await Promise.all(NODES.map((n) => startServices(ctx.chaos, n)));
      },
    };
  },
};

const stopOneByOne: Scenario = {
  name: "StopOnebyOne",
  plan: (rng) => {
    const order = rng.shuffle(NODES);
    return {
      row: "StopOnebyOne",
      rules: adminMove,
      async run(ctx) {
        for (const n of order) {
          ctx.log(`stop ${n}`);
          await stopServices(ctx.chaos, n);
          await noVipOn(ctx.chaos, ctx, [n], `${n} stopped`);
        }
        await Promise.all(NODES.map((n) => startServices(ctx.chaos, n)));
      },
    };
  },
};

const restartOneByOne: Scenario = {
  name: "RestartOnebyOne",
  plan: () => ({
    row: "RestartOnebyOne",
    rules: adminMove,
    async run({ chaos, log }) {
      for (const n of NODES) {
        log(`restart ${n}`);
        await stopServices(chaos, n);
        await startServices(chaos, n);
        await waitUntil(
          `${n} sees every node`,
          STEP_MS,
          async () => (await chaos.view(n))?.online.length === NODES.length,
          100,
        );
      }
    },
  }),
};

const standby: Scenario = {
  name: "Standby",
  plan: (rng) => {
    const holderFirst = rng.chance(0.7);
    const holdMs = rng.int(1000, 4000);
    return {
      row: "Standby",
      rules: adminMove,
      async run(ctx) {
        const n = holderFirst ? holder(ctx.chaos) : peerOf(holder(ctx.chaos));
        ctx.log(`standby ${n}`);
        await ctx.chaos.cluster.must(n, ["node", "standby", n]);
        try {
          await waitUntil(
            `${VIP} away from ${n}`,
            STEP_MS,
            async () => {
              const elsewhere = ctx.chaos.cloud.holderOf(VIP) !== n;
              return elsewhere && !(await ctx.chaos.localVips(n)).includes(VIP);
            },
            100,
          );
        } catch {
          ctx.violation(`${n} set to standby, ${VIP} is still running on it after ${STEP_MS / 1000} s`);
        }
        await sleep(holdMs);
        await ctx.chaos.cluster.must(n, ["node", "unstandby", n]);
      },
    };
  },
};

const resourceRecover: Scenario = {
  name: "ResourceRecover",
  plan: () => ({
    row: "ResourceRecover",
    rules: adminMove,
    async run({ chaos, log }) {
      const n = holder(chaos);
      log(`ip addr del ${VIP} on ${n}`);
      await chaos.bed.execIn(chaos.bed.nodeNs(n), "ip", ["addr", "del", `${VIP}/24`, "dev", "eth0"]);
    },
  }),
};

let markCounter = 0;

const componentFail: Scenario = {
  name: "ComponentFail",
  plan: (rng) => {
    const holderFirst = rng.chance(0.6);
    const downMs = rng.int(1000, 6000);
    const mark = `${rng.int(0, 1_000_000)}-${++markCounter}`;
    return {
      row: "ComponentFail",
      rules: holderFirst ? lossOfNode : peerLoss,
      async run(ctx) {
        const { chaos } = ctx;
        const n = holderFirst ? holder(chaos) : peerOf(holder(chaos));
        // A change committed just before the crash must survive it, on every node.
        await chaos.cluster.must(n, ["property", "set", "--force", `chaos-mark=${mark}`]);
        const committedEpoch = (await chaos.view(n))?.configEpoch ?? 0;
        ctx.log(
          `kill -9 floatip on ${n} right after committing chaos-mark=${mark} (epoch ${committedEpoch})`,
        );
        await chaos.cluster.killDaemon(n, "SIGKILL");
        await sleep(downMs);
        await chaos.cluster.startDaemon(n);
        ctx.afterConvergence((sample) => {
          for (const { node, view } of sample.nodes) {
            if (view?.properties["chaos-mark"] !== mark) {
              return `committed chaos-mark=${mark} lost on ${node} after kill -9 of ${n} (has ${view?.properties["chaos-mark"]})`;
            }
            if ((view.configEpoch ?? -1) < committedEpoch) {
              return `${node} is at epoch ${view.configEpoch} after the crash, below the committed ${committedEpoch}`;
            }
          }
          return null;
        });
      },
    };
  },
};

/** A lost holder must be replaced in the cloud within this (detection 1 s + one move, with margin). */
const FAILOVER_BOUND_MS = 15_000;

/** Takes `node`'s link down; if it held the VIP, waits until the cloud moved it (a missed failover is a violation). */
async function loseNode(ctx: ScenarioContext, node: string): Promise<void> {
  const { chaos } = ctx;
  const held = chaos.cloud.holderOf(VIP) === node;
  await chaos.bed.linkDown(node);
  if (!held) return;
  try {
    await waitUntil(
      `${VIP} moved away from ${node}`,
      FAILOVER_BOUND_MS,
      () => chaos.cloud.holderOf(VIP) !== node,
      100,
    );
  } catch {
    ctx.violation(
      `${node} (the holder) lost its link and ${VIP} was not moved within ${FAILOVER_BOUND_MS / 1000} s`,
    );
  }
}

const nodeLoss: Scenario = {
  name: "NodeLoss",
  plan: (rng) => {
    const holderFirst = rng.chance(0.7);
    const downMs = rng.int(3000, 10_000);
    return {
      row: "NodeLoss",
      rules: holderFirst ? lossOfNode : peerLoss,
      async run(ctx) {
        const n = holderFirst ? holder(ctx.chaos) : peerOf(holder(ctx.chaos));
        ctx.log(`link of ${n} down (until the VIP moved, if it held it) and ${downMs} ms more`);
        try {
          await loseNode(ctx, n);
          await sleep(downMs);
        } finally {
          await ctx.chaos.bed.linkUp(n);
        }
      },
    };
  },
};

type WitnessSide = "with-node1" | "with-node2" | "reachable-by-both";

const splitBrain: Scenario = {
  name: "SplitBrain",
  plan: (rng) => {
    const splitMs = rng.int(5000, 12_000);
    const side = rng.chance(0.5)
      ? null
      : rng.pick<WitnessSide>(["with-node1", "with-node2", "reachable-by-both"]);
    if (side === null) {
      return {
        row: "SplitBrain:no-witness",
        // Both halves are alive and reach the cloud: one move at most (no ping-pong), overlap bounded.
        rules: { mayMove: true, maxMoves: 1 },
        async run({ chaos, log }) {
          log(`partition node1 | node2 for ${splitMs} ms`);
          await chaos.bed.partition(["node1"], ["node2"]);
          await sleep(splitMs);
          await chaos.bed.heal();
        },
      };
    }
    return {
      row: "SplitBrain:witness",
      rules: { mayMove: true, maxMoves: 1 },
      run: (ctx) => splitWithWitness(ctx, side, splitMs),
    };
  },
};

/**
 * ffsplit: on a 50:50 split the half that keeps the witness wins; when both halves reach it, the tie is
 * broken deterministically (the lowest node id). The loser loses quorum and, with no-quorum-policy=stop,
 * must stop the VIP (checked by the sampler); after the split settles only the winner may hold it.
 */
async function splitWithWitness(ctx: ScenarioContext, side: WitnessSide, splitMs: number): Promise<void> {
  const { chaos, log } = ctx;
  await chaos.cluster.must("node1", [
    "quorum",
    "device",
    "add",
    "model",
    "net",
    `host=${WITNESS}`,
    "algorithm=ffsplit",
  ]);
  try {
    for (const n of NODES) {
      await waitUntil(
        `${n} has the witness vote`,
        STEP_MS,
        async () => (await chaos.view(n))?.deviceVote === "granted",
        100,
      );
    }
    const [groupA, groupB] =
      side === "with-node1"
        ? [["node1", WITNESS], ["node2"]]
        : side === "with-node2"
          ? [["node1"], ["node2", WITNESS]]
          : [["node1"], ["node2"]];
    const winner = side === "with-node2" ? "node2" : "node1";
    const loser = peerOf(winner);
    log(
      `witness added; partition ${groupA.join("+")} | ${groupB.join("+")} (witness ${side}) for ${splitMs} ms`,
    );
    await chaos.bed.partition(groupA, groupB);
    try {
      await waitUntil(
        `${loser} loses quorum`,
        STEP_MS,
        async () => (await chaos.view(loser))?.quorate === false,
        100,
      );
    } catch {
      ctx.violation(
        `${loser} kept quorum ${STEP_MS / 1000} s into a split where the witness sides with ${winner}`,
      );
    }
    try {
      await waitUntil(
        `${VIP} served by ${winner}`,
        STEP_MS,
        async () => {
          const local = await chaos.localVips(winner);
          return chaos.cloud.holderOf(VIP) === winner && local.includes(VIP);
        },
        100,
      );
    } catch {
      ctx.violation(
        `with the witness on ${winner}'s side, ${VIP} is not served by ${winner} (cloud holder ${chaos.cloud.holderOf(VIP)})`,
      );
    }
    await sleep(splitMs);
    if (chaos.cloud.holderOf(VIP) !== winner) {
      ctx.violation(
        `with the witness on ${winner}'s side, the cloud holder became ${chaos.cloud.holderOf(VIP)}`,
      );
    }
    await chaos.bed.heal();
    for (const n of NODES) {
      await waitUntil(
        `${n} sees every node again`,
        STEP_MS,
        async () => (await chaos.view(n))?.online.length === NODES.length,
        100,
      );
    }
  } finally {
    await chaos.bed.heal();
    await chaos.cluster.must("node1", ["quorum", "device", "remove"]);
  }
}

const reattach: Scenario = {
  name: "Reattach",
  plan: (rng) => {
    const holderFirst = rng.chance(0.8);
    return {
      row: "Reattach",
      rules: noMove,
      async run({ chaos, log }) {
        const n = holderFirst ? holder(chaos) : peerOf(holder(chaos));
        log(`planned restart of floatip on ${n} (--leave-resources-on-exit), client probe running`);
        await chaos.cluster.killDaemon(n, "SIGTERM");
        await chaos.cluster.startDaemon(n);
      },
    };
  },
};

const packetLoss: Scenario = {
  name: "PacketLoss",
  unavailable: (chaos) =>
    chaos.impairment === null ? "neither tc netem nor nftables works on this host" : null,
  plan: (rng) => {
    const shortMs = rng.int(15_000, 30_000);
    const longMs = rng.int(60_000, 120_000);
    return {
      row: "PacketLoss",
      rules: noMove,
      async run({ chaos, log, long }) {
        const ms = long ? longMs : shortMs;
        const tool = chaos.impairment ?? "netem";
        log(
          tool === "netem"
            ? `netem 5% loss, 50 ms delay +/- 50 ms on every node for ${ms} ms`
            : `nftables 5% random loss on every node for ${ms} ms (this kernel has no netem: no delay or jitter)`,
        );
        try {
          for (const n of NODES)
            await addNetem(chaos.bed, n, { lossPercent: 5, delayMs: 50, jitterMs: 50 }, tool);
          await sleep(ms);
        } finally {
          for (const n of NODES) await clearNetem(chaos.bed, n);
        }
      },
    };
  },
};

type CloudFault = "slow" | "429-storm" | "5xx" | "outage-during-failover";

const cloudFaults: Scenario = {
  name: "CloudFaults",
  plan: (rng) => {
    const kind = rng.pick<CloudFault>(["slow", "429-storm", "5xx", "outage-during-failover"]);
    const ms = rng.int(8000, 15_000);
    const status = rng.pick([500, 502, 503] as const);
    return {
      row: `CloudFaults:${kind}`,
      rules: kind === "outage-during-failover" ? lossOfNode : noMove,
      async run({ chaos, log }) {
        const { cloud } = chaos;
        try {
          if (kind === "slow") {
            log(`every API call takes 2 s for ${ms} ms`);
            await cloud.faults({ latencyMs: 2000 });
            await sleep(ms);
          } else if (kind === "429-storm") {
            log(`429 storm: 20 calls refused, then 0.5 calls/s for ${ms} ms`);
            await cloud.faults({
              failNext: { count: 20, status: 429 },
              rateLimit: { perSecond: 0.5, burst: 1 },
            });
            await sleep(ms);
          } else if (kind === "5xx") {
            log(`the next 15 API calls answer ${status}, for ${ms} ms`);
            await cloud.faults({ failNext: { count: 15, status } });
            await sleep(ms);
          } else {
            const n = holder(chaos);
            log(`API outage of ${ms} ms while ${n} (the holder) loses its link`);
            await cloud.faults({ outageMs: ms });
            await chaos.bed.linkDown(n);
            try {
              await waitUntil(
                `${VIP} moved away from ${n}`,
                ms + 30_000,
                () => cloud.holderOf(VIP) !== n,
                100,
              );
            } finally {
              await chaos.bed.linkUp(n);
            }
          }
        } finally {
          await cloud.faults({
            latencyMs: API_LATENCY_MS,
            failNext: { count: 0, status: 503 },
            outageMs: null,
            rateLimit: null,
          });
        }
      },
    };
  },
};

/**
 * A real wall-clock step of one daemon (libfaketime, monotonic clock untouched). ClockJump stays within the
 * 5 minutes of skew that OCI (and the emulator) accept on signed requests; ClockSkew goes past it, so the
 * node's API calls are refused (401) until the clock is back: neither may cause a failover.
 */
function clockScenario(name: string, offsets: readonly number[]): Scenario {
  return {
    name,
    unavailable: (chaos) =>
      chaos.clockFiles ? null : "libfaketime is not installed (Debian package libfaketime)",
    plan: (rng) => {
      const pickedNode = rng.pick(NODES);
      const offsetS = rng.pick(offsets);
      const holdMs = rng.int(8000, 15_000);
      // A step back on the surviving node must not hide the loss of its peer.
      const withLoss = name === "ClockJump" && rng.chance(0.3);
      const stepS = withLoss ? -Math.abs(offsetS) : offsetS;
      return {
        row: withLoss ? `${name}:back-then-node-loss` : name,
        rules: withLoss ? lossOfNode : noMove,
        async run(ctx) {
          const { chaos, log } = ctx;
          const node = withLoss ? peerOf(holder(chaos)) : pickedNode;
          const file = chaos.clockFiles?.[node];
          if (!file) throw new Error("no clock file");
          log(
            `wall clock of ${node}'s daemon jumps ${stepS > 0 ? "+" : ""}${stepS} s for ${holdMs} ms, then back`,
          );
          try {
            setClockOffset(file, stepS);
            await sleep(holdMs / 2);
            if (withLoss) {
              const lost = peerOf(node);
              log(`link of ${lost} (the holder) down while ${node}'s clock is behind`);
              try {
                await loseNode(ctx, lost);
              } finally {
                await chaos.bed.linkUp(lost);
              }
            }
            await sleep(holdMs / 2);
          } finally {
            setClockOffset(file, 0);
          }
          // libfaketime re-reads the file about once a second: let the jump back happen inside the scenario.
          await sleep(3000);
        },
      };
    },
  };
}

const clockJump = clockScenario("ClockJump", [90, 240, -30, -90, -240]);
const clockSkew = clockScenario("ClockSkew", [600, 3600, -600]);

export const SCENARIOS: readonly Scenario[] = [
  startOneByOne,
  simulStart,
  simulStop,
  stopOneByOne,
  restartOneByOne,
  standby,
  resourceRecover,
  componentFail,
  nodeLoss,
  splitBrain,
  reattach,
  packetLoss,
  cloudFaults,
  clockJump,
  clockSkew,
];

/** Puts the bed back as built: links up, partition healed, no netem, no cloud faults, clocks right, all running. */
export async function restoreBed(chaos: ChaosBed): Promise<void> {
  const steps: Promise<unknown>[] = [chaos.bed.heal().catch(() => undefined)];
  for (const n of NODES) {
    steps.push(chaos.bed.linkUp(n).catch(() => undefined));
    steps.push(clearNetem(chaos.bed, n).catch(() => undefined));
    const file = chaos.clockFiles?.[n];
    if (file) setClockOffset(file, 0);
  }
  steps.push(
    chaos.cloud
      .faults({
        latencyMs: API_LATENCY_MS,
        failNext: { count: 0, status: 503 },
        outageMs: null,
        rateLimit: null,
      })
      .catch(() => undefined),
  );
  await Promise.all(steps);
  for (const n of NODES) {
    if ((await chaos.view(n)) === null) {
      await chaos.cluster.killDaemon(n, "SIGKILL");
      await chaos.cluster.startDaemon(n).catch(() => undefined);
    }
  }
  if ((await chaos.view("node1"))?.deviceVote)
    await chaos.cluster.cli("node1", ["quorum", "device", "remove"]);
  for (const n of NODES) {
    const view = await chaos.view(n);
    if (view && !view.running) await chaos.cluster.cli(n, ["cluster", "start"]);
    await chaos.cluster.cli(n, ["node", "unstandby", n]);
  }
}
