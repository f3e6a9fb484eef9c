/** Runs parseArgs (or any option parsing) and turns its error into one line and exit code 2, not a stack. */
export function parseOrExit<T>(parse: () => T, usage: string): T {
  try {
    return parse();
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    process.stderr.write(`Error: ${message}\n${usage}\n`);
    process.exit(2);
  }
}
