import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";

const vipRecordSchema = z.object({
  /** Epoch of this node's own verified hold, while it believes it holds the VIP. */
  heldEpoch: z.number().int().nonnegative().optional(),
  /** Set when another holder took the VIP from this node. */
  displaced: z
    .object({
      at: z.number(),
      byEpoch: z.number().int().nonnegative(),
      byInstance: z.string().optional(),
    })
    .optional(),
});

const stateFileSchema = z.object({
  version: z.literal(1),
  vips: z.record(z.string(), vipRecordSchema),
});

export type VipRecord = z.infer<typeof vipRecordSchema>;

/**
 * What this node remembers per VIP for the displacement rule: whether it holds the VIP and whether it
 * was displaced by another holder. Kept in memory, and in a small JSON file when one is given so a
 * restarted daemon does not forget that it lost the VIP in a partition.
 */
export class DisplacementMemory {
  readonly #file: string | undefined;
  readonly #records = new Map<string, VipRecord>();
  #loaded: Promise<void> | undefined;
  /** Serialises file writes so an older snapshot never overwrites a newer one. */
  #writing: Promise<void> = Promise.resolve();
  readonly #onWriteError: (error: unknown) => void;

  constructor(options: { file?: string; onWriteError?: (error: unknown) => void } = {}) {
    this.#file = options.file;
    this.#onWriteError = options.onWriteError ?? (() => {});
  }

  async get(vip: string): Promise<VipRecord> {
    await this.#load();
    return { ...(this.#records.get(vip) ?? {}) };
  }

  /** This node verified it holds `vip` at `epoch`: it is no longer displaced. */
  async markHeld(vip: string, epoch: number): Promise<void> {
    const record = await this.get(vip);
    if (record.heldEpoch === epoch && record.displaced === undefined) return;
    await this.#update(vip, { heldEpoch: epoch });
  }

  /** This node gave the VIP up (release) without being displaced. */
  async markNotHeld(vip: string): Promise<void> {
    const record = await this.get(vip);
    if (record.heldEpoch === undefined) return;
    delete record.heldEpoch;
    await this.#update(vip, record);
  }

  /**
   * Forgets every displacement: once the cluster is whole again its coordinator decides who holds each
   * VIP, and a remembered partition must not hold up a later, real failover. With `runningHere`, the
   * holds of VIPs not running here are forgotten too: one kept from before a partition in which another
   * node took the VIP would count as a displacement at the next, real failover to this node.
   */
  async forgetDisplacements(runningHere?: ReadonlySet<string>): Promise<void> {
    await this.#load();
    for (const [vip, record] of this.#records) {
      const staleHold = runningHere !== undefined && record.heldEpoch !== undefined && !runningHere.has(vip);
      if (record.displaced === undefined && !staleHold) continue;
      const { displaced: _gone, heldEpoch, ...rest } = record;
      await this.#update(vip, staleHold || heldEpoch === undefined ? rest : { ...rest, heldEpoch });
    }
  }

  /** Neither held nor displaced: what a node is after the coordinator of a whole cluster moved the VIP. */
  async clear(vip: string): Promise<void> {
    const record = await this.get(vip);
    if (record.heldEpoch === undefined && record.displaced === undefined) return;
    await this.#update(vip, {});
  }

  async markDisplaced(vip: string, displaced: NonNullable<VipRecord["displaced"]>): Promise<void> {
    await this.#update(vip, { displaced });
  }

  async #update(vip: string, record: VipRecord): Promise<void> {
    await this.#load();
    this.#records.set(vip, record);
    if (this.#file === undefined) return;
    const snapshot = JSON.stringify({ version: 1, vips: Object.fromEntries(this.#records) }, null, 2);
    const file = this.#file;
    this.#writing = this.#writing.then(() => writeAtomically(file, snapshot)).catch(this.#onWriteError);
    await this.#writing;
  }

  #load(): Promise<void> {
    this.#loaded ??= this.#readFile();
    return this.#loaded;
  }

  async #readFile(): Promise<void> {
    if (this.#file === undefined) return;
    let text: string;
    try {
      text = await readFile(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.#onWriteError(error);
      return;
    }
    try {
      const parsed = stateFileSchema.parse(JSON.parse(text));
      for (const [vip, record] of Object.entries(parsed.vips)) this.#records.set(vip, record);
    } catch (error) {
      // A corrupt file must not stop failover; it only costs the memory of past displacements.
      this.#onWriteError(error);
    }
  }
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}
