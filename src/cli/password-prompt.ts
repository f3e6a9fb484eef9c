import { createInterface } from "node:readline";
import { UsageError } from "./pcs-args.ts";

/** Reads a password from the terminal without echo, or one line from standard input for scripts. */
export async function readPassword(options: {
  prompt: string;
  confirm: boolean;
  stdin: boolean;
}): Promise<string> {
  if (options.stdin || !process.stdin.isTTY) {
    const line = (await readAllStdin()).split(/\r?\n/)[0] ?? "";
    if (!line) throw new UsageError("no password on standard input");
    return line;
  }
  const first = await readLine(true, options.prompt);
  if (!first) throw new UsageError("the password must not be empty");
  if (options.confirm && (await readLine(true, "Retype password: ")) !== first) {
    throw new UsageError("the passwords do not match");
  }
  return first;
}

function readLine(muted: boolean, prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: muted });
    if (muted) {
      process.stdout.write(prompt);
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    }
    rl.once("line", (line) => {
      if (muted) process.stdout.write("\n");
      rl.close();
      resolve(line.replace(/\r$/, ""));
    });
    rl.once("close", () => resolve(""));
  });
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
